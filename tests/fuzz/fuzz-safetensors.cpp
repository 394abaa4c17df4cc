// libFuzzer target: svg_safetensors_open_memory over arbitrary bytes, then
// every accessor and both converters on whatever opened. Rejections must set
// an error; accepted tensors must lie inside the input (ASan checks the reads).
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "svg.h"

static void check(const uint8_t *data, size_t size) {
    svg_clear_error();
    svg_safetensors *st = svg_safetensors_open_memory(data, size);
    if (!st) {
        if (svg_last_error()[0] == '\0') abort();  // every failure must say why
        return;
    }
    svg_safetensors_metadata(st, "format");
    const int64_t n = svg_safetensors_n_tensors(st);
    for (int64_t i = 0; i < n; i++) {
        const char *name = svg_safetensors_name(st, i);
        if (!name || !svg_safetensors_dtype(st, i) || svg_safetensors_find(st, name) != i) abort();
        const int n_dims = svg_safetensors_n_dims(st, i);
        if (n_dims < 0 || n_dims > SVG_MAX_DIMS) abort();
        int64_t ne[SVG_MAX_DIMS];
        svg_safetensors_shape(st, i, ne);
        const int64_t nel = svg_safetensors_nelements(st, i);
        const size_t nbytes = svg_safetensors_nbytes(st, i);
        // the tensor's bytes are inside the input
        const uintptr_t p = (uintptr_t)svg_safetensors_data(st, i), lo = (uintptr_t)data;
        if (nbytes > size || p < lo || p - lo > size - nbytes) abort();
        if (nel < 0 || (uint64_t)nel > nbytes) abort();  // every dtype is at least one byte

        std::vector<float> f((size_t)nel);
        std::vector<int64_t> q((size_t)nel);
        if (!svg_safetensors_read_f32(st, i, f.data(), nel)) abort();  // every dtype converts
        svg_safetensors_read_i64(st, i, q.data(), nel);
        // wrong counts are rejected, never read
        if (svg_safetensors_read_f32(st, i, f.data(), nel + 1)) abort();
    }
    svg_safetensors_name(st, n);  // out of range
    svg_safetensors_free(st);
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    check(data, size);
    // Mutations rarely keep the 8-byte header length consistent, which stops
    // most inputs before the JSON. So also run the input with the length
    // rewritten to end the header at its last '}', letting mutations of the
    // JSON reach the per-tensor validation.
    const uint8_t *close = nullptr;
    for (size_t i = size; i > 8; i--)
        if (data[i - 1] == '}') {
            close = data + i;
            break;
        }
    if (!close) return 0;
    std::vector<uint8_t> fixed(data, data + size);
    const uint64_t n = (uint64_t)(close - data) - 8;
    for (int i = 0; i < 8; i++) fixed[(size_t)i] = (uint8_t)(n >> (8 * i));
    check(fixed.data(), fixed.size());
    return 0;
}
