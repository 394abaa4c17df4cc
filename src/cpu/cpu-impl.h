// CPU backend internals: kernel signature, thread pool access and strided
// indexing helpers shared by the kernel files.
#pragma once

#include "../svg-impl.h"

#include <algorithm>
#include <functional>
#include <memory>

struct svg_cpu_pool;

struct svg_cpu_ctx {
    svg_cpu_pool *pool;
    int n_threads;
    // Run fn(begin, end) over [0, n) split into chunks across the threads.
    void parallel_for(int64_t n, const std::function<void(int64_t, int64_t)> &fn,
                      int64_t min_chunk = 1) const;
};

// A kernel computes dst from dst->src[] and dst->op_params; returns false
// (with svg_set_error) on unsupported input.
typedef bool (*svg_cpu_kernel)(const svg_cpu_ctx &c, svg_tensor *dst);

// Kernels by op family (one file each).
bool svg_cpu_copy(const svg_cpu_ctx &, svg_tensor *);
bool svg_cpu_binary(const svg_cpu_ctx &, svg_tensor *);
bool svg_cpu_scale(const svg_cpu_ctx &, svg_tensor *);
bool svg_cpu_unary(const svg_cpu_ctx &, svg_tensor *);
bool svg_cpu_softmax(const svg_cpu_ctx &, svg_tensor *);
bool svg_cpu_norm(const svg_cpu_ctx &, svg_tensor *);
bool svg_cpu_group_norm(const svg_cpu_ctx &, svg_tensor *);
bool svg_cpu_mul_mat(const svg_cpu_ctx &, svg_tensor *);
bool svg_cpu_get_rows(const svg_cpu_ctx &, svg_tensor *);
bool svg_cpu_concat(const svg_cpu_ctx &, svg_tensor *);
bool svg_cpu_pad(const svg_cpu_ctx &, svg_tensor *);
bool svg_cpu_repeat(const svg_cpu_ctx &, svg_tensor *);
bool svg_cpu_upsample_nearest(const svg_cpu_ctx &, svg_tensor *);
bool svg_cpu_conv3d(const svg_cpu_ctx &, svg_tensor *);
bool svg_cpu_timestep_embedding(const svg_cpu_ctx &, svg_tensor *);
bool svg_cpu_rope(const svg_cpu_ctx &, svg_tensor *);
bool svg_cpu_attention(const svg_cpu_ctx &, svg_tensor *);
bool svg_cpu_sparse_profile(const svg_cpu_ctx &, svg_tensor *);
bool svg_cpu_sparse_permute(const svg_cpu_ctx &, svg_tensor *);

// ---- indexing helpers

// Unravel a linear row-major index over t's shape into idx[].
static inline void svg_unravel(const svg_tensor *t, int64_t i, int64_t *idx) {
    for (int d = t->n_dims - 1; d >= 0; d--) {
        const int64_t n = t->ne[d] ? t->ne[d] : 1;
        idx[d] = i % n;
        i /= n;
    }
}
// Byte offset of idx in t (idx has t->n_dims entries, right-aligned onto
// a higher-rank index by the caller when broadcasting).
static inline size_t svg_offset(const svg_tensor *t, const int64_t *idx) {
    size_t o = 0;
    for (int d = 0; d < t->n_dims; d++) o += (size_t)idx[d] * t->nb[d];
    return o;
}
// Byte offset in t of an index of a broadcast result of rank n (t's dims
// right-aligned, size-1 dims broadcast).
static inline size_t svg_offset_bcast(const svg_tensor *t, const int64_t *idx, int n) {
    size_t o = 0;
    for (int d = 0; d < t->n_dims; d++) {
        const int64_t i = idx[n - t->n_dims + d];
        if (t->ne[d] != 1) o += (size_t)i * t->nb[d];
    }
    return o;
}

// Read the innermost row of t at the outer index idx (t->n_dims entries; the
// innermost entry is ignored) into f32. Handles strided and quantized rows.
void svg_cpu_load_row(const svg_tensor *t, const int64_t *idx, float *out);
// Scalar float element at byte address p of a float-type tensor.
static inline float svg_cpu_load(const svg_tensor *t, const char *p) {
    if (t->type == SVG_TYPE_F32) return *(const float *)p;
    float f;
    svg_type_traits_of(t->type)->to_float(p, &f, 1);
    return f;
}
