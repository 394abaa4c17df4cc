#!/usr/bin/env python3
"""A Wan 2.1 transformer GGUF written the way ComfyUI-GGUF writes the
community files (city96's convert.py): original / ComfyUI tensor naming,
2-D weights quantized with gguf-py (Q8_0, and Q4_0 for the FFN: a mixed
file), 1-D and 3-D tensors F32, the 5-D patch embedding stored F16 as 2-D
with "comfy.gguf.orig_shape.<name>" giving its shape back, architecture
"wan". Beside it, the forward diffusers computes on the weights as gguf-py
dequantizes them (the reference for svg.cpp's f32 path on that file).

A tiny model of its own (dims multiple of 32, so the rows are whole blocks):
2 heads of 16, FFN 64, text 32, 2 blocks.

And the golden umT5 encoder (../goldens/umt5_encoder) as llama.cpp names a
T5 encoder in GGUF (city96's umt5-xxl-encoder-*.gguf: token_embd,
enc.blk.N.attn_q / attn_rel_b / ffn_gate ..., enc.output_norm), in F32 so
that its output is the golden's. Run from this folder:
    python3 make_comfy_gguf.py   (torch, diffusers, gguf, safetensors)
"""
import os

import gguf
import numpy as np
import torch
from diffusers import WanTransformer3DModel
from gguf.quants import dequantize, quantize
from safetensors.torch import save_file

HERE = os.path.dirname(os.path.abspath(__file__))
CONFIG = dict(patch_size=(1, 2, 2), num_attention_heads=2, attention_head_dim=16, in_channels=16, out_channels=16, text_dim=32,
              freq_dim=256, ffn_dim=64, num_layers=2, cross_attn_norm=True, qk_norm="rms_norm_across_heads", eps=1e-6, rope_max_seq_len=1024)

# diffusers → original module paths (the inverse of convert/convert-wan.cpp's rules)
TOP = {"condition_embedder.text_embedder.linear_1": "text_embedding.0", "condition_embedder.text_embedder.linear_2": "text_embedding.2",
       "condition_embedder.time_embedder.linear_1": "time_embedding.0", "condition_embedder.time_embedder.linear_2": "time_embedding.2",
       "condition_embedder.time_proj": "time_projection.1", "proj_out": "head.head", "scale_shift_table": "head.modulation",
       "patch_embedding": "patch_embedding"}
BLOCK = {"attn1.to_q": "self_attn.q", "attn1.to_k": "self_attn.k", "attn1.to_v": "self_attn.v", "attn1.to_out.0": "self_attn.o",
         "attn1.norm_q": "self_attn.norm_q", "attn1.norm_k": "self_attn.norm_k", "attn2.to_q": "cross_attn.q", "attn2.to_k": "cross_attn.k",
         "attn2.to_v": "cross_attn.v", "attn2.to_out.0": "cross_attn.o", "attn2.norm_q": "cross_attn.norm_q", "attn2.norm_k": "cross_attn.norm_k",
         "norm2": "norm3", "ffn.net.0.proj": "ffn.0", "ffn.net.2": "ffn.2", "scale_shift_table": "modulation"}


def original(name):
    if name.startswith("blocks."):
        _, i, rest = name.split(".", 2)
        for d, o in BLOCK.items():
            if rest == d or rest.startswith(d + "."):
                return f"blocks.{i}.{o}{rest[len(d):]}"
    for d, o in TOP.items():
        if name == d or name.startswith(d + "."):
            return o + name[len(d):]
    raise KeyError(name)


def umt5_llamacpp():
    from safetensors.numpy import load_file
    leaf = {"0.SelfAttention.q": "attn_q", "0.SelfAttention.k": "attn_k", "0.SelfAttention.v": "attn_v", "0.SelfAttention.o": "attn_o",
            "0.SelfAttention.relative_attention_bias": "attn_rel_b", "0.layer_norm": "attn_norm", "1.DenseReluDense.wi_0": "ffn_gate",
            "1.DenseReluDense.wi_1": "ffn_up", "1.DenseReluDense.wo": "ffn_down", "1.layer_norm": "ffn_norm"}
    sd = load_file("../goldens/umt5_encoder/text_encoder/model.safetensors")
    w = gguf.GGUFWriter("umt5-tiny-llamacpp.gguf", "t5encoder")
    for name, a in sd.items():
        if name == "shared.weight":
            key = "token_embd.weight"
        elif name == "encoder.final_layer_norm.weight":
            key = "enc.output_norm.weight"
        else:
            _, _, i, _, rest = name.split(".", 4)  # encoder.block.N.layer.<rest>
            key = f"enc.blk.{i}.{leaf[rest.rsplit('.', 1)[0]]}.weight"
        w.add_tensor(key, a.astype(np.float32))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def main():
    os.chdir(HERE)
    umt5_llamacpp()
    torch.manual_seed(3)
    m = WanTransformer3DModel(**CONFIG).eval()
    with torch.no_grad():
        for p in m.parameters():
            p.copy_(torch.randn_like(p) * 0.1)
    w = gguf.GGUFWriter("wan-tiny-comfy.gguf", "wan")
    deq = {}
    for name, t in m.state_dict().items():
        key, a = original(name), t.float().numpy()
        if a.ndim == 2 and a.shape[1] % 32 == 0:
            qt = gguf.GGMLQuantizationType.Q4_0 if ".ffn." in key else gguf.GGMLQuantizationType.Q8_0
            q = quantize(a, qt)
            w.add_tensor(key, q, raw_shape=q.shape, raw_dtype=qt)
            deq[name] = torch.from_numpy(dequantize(q, qt).reshape(a.shape).copy())
        elif a.ndim > 4 or key == "patch_embedding.weight":
            flat = a.reshape(a.shape[0], -1).astype(np.float16)
            w.add_tensor(key, flat)
            w.add_array("comfy.gguf.orig_shape." + key, list(a.shape))
            deq[name] = torch.from_numpy(flat.astype(np.float32).reshape(a.shape))
        else:
            w.add_tensor(key, a.astype(np.float32))
            deq[name] = t.float()
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    m.load_state_dict(deq)
    m.save_config(".")  # config.json, for --config (the heads cannot be read from shapes)
    x, text = torch.randn(1, 16, 3, 8, 8), torch.randn(1, 7, 32)
    t = torch.tensor([650.0])
    with torch.no_grad():
        out = m(hidden_states=x, timestep=t, encoder_hidden_states=text, return_dict=False)[0]
    save_file({"hidden_states": x, "timestep": t, "encoder_hidden_states": text, "out": out.contiguous()}, "forward.safetensors")
    print("wrote wan-tiny-comfy.gguf", os.path.getsize("wan-tiny-comfy.gguf"), "bytes; out", tuple(out.shape))


if __name__ == "__main__":
    main()
