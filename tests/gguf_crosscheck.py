#!/usr/bin/env python3
"""Cross-check svg.cpp's GGUF I/O against the reference `gguf` Python package.

  gguf_crosscheck.py check FILE MANIFEST
      Read FILE (written by svg_gguf_writer) with gguf.GGUFReader and compare
      it with MANIFEST, a JSON description written by tests/test-gguf.cpp:
        {"alignment": A,
         "kvs": [{"key", "type", "value" | "hex", "elem" (arrays)}, ...],
         "tensors": [{"name", "type", "shape" (PyTorch order), "hex"}, ...]}
      Numeric values are given as "hex" (their little-endian bytes) so the
      comparison is exact for floats too.

  gguf_crosscheck.py write FILE
      Write FILE with gguf.GGUFWriter; test-gguf.cpp reads it with
      svg_gguf_open and checks the same values (keep the two in sync).

  gguf_crosscheck.py dequant FILE
      For every quantized tensor T of FILE that has an f32 tensor "T.ref"
      beside it (svg.cpp's own dequantization), dequantize T with
      gguf.quants and compare: the block layouts must agree (relative max
      difference <= 1e-6).

Exits 0 when everything matches, 1 with a message per mismatch otherwise.
"""
import json
import sys

import numpy as np
from gguf import GGMLQuantizationType, GGUFReader, GGUFValueType, GGUFWriter

STRING, ARRAY = int(GGUFValueType.STRING), int(GGUFValueType.ARRAY)


def field_bytes(field, indices):
    return b"".join(field.parts[i].tobytes() for i in indices)


def check(path, manifest_path):
    with open(manifest_path, encoding="utf-8") as f:
        m = json.load(f)
    r = GGUFReader(path)
    errors = []

    def expect(cond, msg):
        if not cond:
            errors.append(msg)

    expect(int(r.alignment) == m["alignment"], f"alignment {r.alignment} != {m['alignment']}")
    expect(r.data_offset % m["alignment"] == 0, f"data offset {r.data_offset} not aligned")

    # GGUFReader adds pseudo-fields for the header
    fields = [(k, f) for k, f in r.fields.items() if not k.startswith("GGUF.")]
    keys = [k for k, _ in fields]
    want_keys = [kv["key"] for kv in m["kvs"]]
    expect(keys == want_keys, f"keys {keys} != {want_keys}")
    for (key, field), kv in zip(fields, m["kvs"]):
        vtype = int(field.types[0])
        expect(vtype == kv["type"], f"{key}: type {vtype} != {kv['type']}")
        if vtype == STRING:
            expect(field.contents() == kv["value"], f"{key}: {field.contents()!r} != {kv['value']!r}")
        elif vtype == ARRAY:
            # parts: key length, key, value type, element type, count, elements...
            elem, n = int(field.parts[3][0]), int(field.parts[4][0])
            expect(elem == kv["elem"], f"{key}: element type {elem} != {kv['elem']}")
            if elem == STRING:
                expect(n == len(kv["value"]), f"{key}: {n} strings != {len(kv['value'])}")
                expect(field.contents() == kv["value"], f"{key}: {field.contents()!r} != {kv['value']!r}")
            else:
                got = field_bytes(field, field.data)
                expect(got == bytes.fromhex(kv["hex"]), f"{key}: array bytes {got.hex()} != {kv['hex']}")
        else:
            got = field_bytes(field, field.data)
            expect(got == bytes.fromhex(kv["hex"]), f"{key}: bytes {got.hex()} != {kv['hex']}")

    names = [t.name for t in r.tensors]
    want_names = [t["name"] for t in m["tensors"]]
    expect(names == want_names, f"tensor names {names} != {want_names}")
    for t, want in zip(r.tensors, m["tensors"]):
        expect(int(t.tensor_type) == want["type"], f"{t.name}: type {int(t.tensor_type)} != {want['type']}")
        shape = [int(x) for x in t.shape]  # ggml order, innermost first
        expect(shape == want["shape"][::-1], f"{t.name}: ggml shape {shape} != reversed {want['shape']}")
        expect(t.data_offset % m["alignment"] == 0, f"{t.name}: data offset {t.data_offset} not aligned")
        got = r.data[t.data_offset:t.data_offset + t.n_bytes].tobytes()
        expect(got == bytes.fromhex(want["hex"]), f"{t.name}: {len(got)} data bytes differ")

    for e in errors:
        print("gguf_crosscheck:", e)
    if not errors:
        print(f"gguf_crosscheck: ok ({len(fields)} kvs, {len(r.tensors)} tensors)")
    return 0 if not errors else 1


def write(path):
    w = GGUFWriter(path, "svgtest")
    w.add_custom_alignment(64)
    w.add_uint32("test.u32", 42)
    w.add_int64("test.i64", -5)
    w.add_float32("test.f32", 0.5)
    w.add_float64("test.f64", -2.25)
    w.add_bool("test.bool", True)
    w.add_string("test.str", "héllo")
    w.add_array("test.arr_i32", [1, -2, 3])
    w.add_key_value("test.arr_u8", [7, 255], GGUFValueType.ARRAY, sub_type=GGUFValueType.UINT8)
    w.add_array("test.strs", ["a", "", "xyz"])
    w.add_tensor("w", np.arange(12, dtype=np.float32).reshape(3, 4))
    w.add_tensor("h", np.arange(10, dtype=np.float16).reshape(2, 5))
    w.add_tensor("ids", np.arange(7, dtype=np.int32))
    # q8_0 from raw bytes: 2 rows of 64 elements = 2 blocks of 34 bytes each
    q = (np.arange(2 * 68) % 251).astype(np.uint8).reshape(2, 68)
    w.add_tensor("q", q, raw_shape=(2, 68), raw_dtype=GGMLQuantizationType.Q8_0)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return 0


def dequant(path):
    from gguf import quants
    r = GGUFReader(path)
    by_name = {t.name: t for t in r.tensors}
    errors, checked = [], 0
    for t in r.tensors:
        ref = by_name.get(t.name + ".ref")
        if ref is None or t.tensor_type in (GGMLQuantizationType.F32, GGMLQuantizationType.F16):
            continue
        got = quants.dequantize(t.data, t.tensor_type).reshape(-1).astype(np.float64)
        want = np.asarray(ref.data, dtype=np.float64).reshape(-1)
        if got.shape != want.shape:
            errors.append(f"{t.name}: {got.shape} values, the reference {want.shape}")
            continue
        diff = float(np.max(np.abs(got - want))) if got.size else 0.0
        if diff > 1e-6 * max(float(np.max(np.abs(want))), 1e-30):
            errors.append(f"{t.name} ({t.tensor_type.name}): gguf-py dequantizes it differently, max |diff| {diff:.3g}")
        checked += 1
    if not checked:
        errors.append("no quantized tensor with a .ref beside it")
    for e in errors:
        print("gguf_crosscheck:", e)
    if not errors:
        print(f"gguf_crosscheck: ok ({checked} quantized tensors dequantize alike)")
    return 0 if not errors else 1


def main(argv):
    if len(argv) == 3 and argv[1] == "dequant":
        return dequant(argv[2])
    if len(argv) == 4 and argv[1] == "check":
        return check(argv[2], argv[3])
    if len(argv) == 3 and argv[1] == "write":
        return write(argv[2])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
