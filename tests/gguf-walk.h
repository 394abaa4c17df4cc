// Every accessor of the GGUF reader on every kv and tensor of an open file —
// mismatched types and out-of-range indices included — with every byte they
// point at read, so the sanitizers see any access the validation let
// through. Shared by tests/test-gguf.cpp and the fuzz target.
#pragma once

#include <cstdint>
#include <cstring>

#include "svg.h"

// Bytes per element of a scalar kv type (0: string / array / unknown).
inline size_t svg_test_gguf_scalar_size(svg_gguf_type t) {
    switch (t) {
    case SVG_GGUF_UINT8: case SVG_GGUF_INT8: case SVG_GGUF_BOOL: return 1;
    case SVG_GGUF_UINT16: case SVG_GGUF_INT16: return 2;
    case SVG_GGUF_UINT32: case SVG_GGUF_INT32: case SVG_GGUF_FLOAT32: return 4;
    case SVG_GGUF_UINT64: case SVG_GGUF_INT64: case SVG_GGUF_FLOAT64: return 8;
    default: return 0;
    }
}

// A checksum of everything read (keeps the reads alive). *sizes_agree is
// cleared when the reader's byte count of a tensor differs from the core's
// for the tensor it creates.
inline uint64_t svg_test_gguf_walk(const svg_gguf *f, bool *sizes_agree) {
    *sizes_agree = true;
    uint64_t sum = svg_gguf_version(f) + svg_gguf_alignment(f) + svg_gguf_data_offset(f);
    for (int64_t i = -1; i <= svg_gguf_n_kv(f); i++) {
        const char *key = svg_gguf_key(f, i);
        sum += (uint64_t)svg_gguf_kv_type(f, i);
        sum += svg_gguf_get_u8(f, i) + (uint64_t)svg_gguf_get_i8(f, i) + svg_gguf_get_u16(f, i) +
               (uint64_t)svg_gguf_get_i16(f, i) + svg_gguf_get_u32(f, i) + (uint64_t)svg_gguf_get_i32(f, i) +
               svg_gguf_get_u64(f, i) + (uint64_t)svg_gguf_get_i64(f, i) + svg_gguf_get_bool(f, i);
        sum += (uint64_t)(svg_gguf_get_f32(f, i) > 0) + (uint64_t)(svg_gguf_get_f64(f, i) > 0);
        if (const char *s = svg_gguf_get_str(f, i)) sum += strlen(s);
        const svg_gguf_type et = svg_gguf_arr_type(f, i);
        const int64_t n = svg_gguf_arr_n(f, i);
        if (const uint8_t *p = (const uint8_t *)svg_gguf_arr_data(f, i))
            for (size_t b = 0; b < (size_t)n * svg_test_gguf_scalar_size(et); b++) sum += p[b];
        for (int64_t j = -1; j <= n; j++)
            if (const char *s = svg_gguf_arr_str(f, i, j)) sum += strlen(s);
        if (!key) continue;
        sum += strlen(key) + (uint64_t)svg_gguf_find_key(f, key);
        int64_t iv = 0;
        double dv = 0;
        sum += svg_gguf_get_int(f, key, &iv) + (uint64_t)iv;
        sum += svg_gguf_get_float(f, key, &dv) + (uint64_t)(dv > 0);
        if (const char *s = svg_gguf_get_string(f, key)) sum += strlen(s);
    }
    svg_context *ctx = svg_context_new(true);  // metadata only: shapes may be huge but empty
    for (int64_t i = -1; i <= svg_gguf_n_tensors(f); i++) {
        if (const char *name = svg_gguf_tensor_name(f, i)) sum += strlen(name) + (uint64_t)svg_gguf_find_tensor(f, name);
        sum += (uint64_t)svg_gguf_tensor_type(f, i) + (uint64_t)svg_gguf_tensor_n_dims(f, i);
        int64_t ne[SVG_MAX_DIMS] = {0};
        svg_gguf_tensor_shape(f, i, ne);
        for (int64_t d : ne) sum += (uint64_t)d;
        sum += svg_gguf_tensor_offset(f, i);
        const size_t nbytes = svg_gguf_tensor_nbytes(f, i);
        if (const uint8_t *p = (const uint8_t *)svg_gguf_tensor_data(f, i))
            for (size_t b = 0; b < nbytes; b++) sum += p[b];
        if (svg_tensor *t = svg_gguf_new_tensor(f, i, ctx)) {
            sum += (uint64_t)t->n_dims;
            if (svg_nbytes(t) != nbytes) *sizes_agree = false;
        }
    }
    svg_context_free(ctx);
    return sum;
}
