// Internal declarations shared by the core, the backends and the tests.
#pragma once

#include "../svg.h"

#include <cstdarg>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

// ---------------------------------------------------------------- errors
// Set the thread-local error and return a value, so failure paths read
// `return svg_err<T *>(nullptr, "...")` / `return svg_err(false, ...)`.
template <typename T>
static inline T svg_err(T ret, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
template <typename T>
static inline T svg_err(T ret, const char *fmt, ...) {
    char buf[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    svg_set_error("%s", buf);
    return ret;
}

// ---------------------------------------------------------------- sizes
// Overflow-checked arithmetic for parsers and shape computations.
static inline bool svg_mul_overflow(uint64_t a, uint64_t b, uint64_t *out) {
    return __builtin_mul_overflow(a, b, out);
}
static inline bool svg_add_overflow(uint64_t a, uint64_t b, uint64_t *out) {
    return __builtin_add_overflow(a, b, out);
}
static inline size_t svg_align_up(size_t x, size_t a) { return (x + a - 1) / a * a; }

// Internal tensor flag: memory placed by a graph planner (svg_gallocr).
constexpr int32_t SVG_FLAG_PLANNED = 1 << 16;

// ---------------------------------------------------------------- buffers
// A backend buffer: one allocation tensors are placed in.
struct svg_buffer {
    struct svg_backend *backend = nullptr;
    void *base = nullptr;
    size_t size = 0;
    virtual ~svg_buffer() = default;
    virtual bool set(void *dst, const void *src, size_t size) = 0;  // host → buffer
    virtual bool get(void *dst, const void *src, size_t size) = 0;  // buffer → host
    virtual bool is_host() const = 0;
};

// ---------------------------------------------------------------- backends
struct svg_backend {
    virtual ~svg_backend() = default;
    // svg_backend_free: a backend whose buffers hold on to it (CUDA) stays
    // alive until the last of them is freed
    virtual void release() { delete this; }
    virtual const char *name() const = 0;
    // name plus what a timing depends on (threads; GPU, clocks, driver)
    virtual std::string description() const { return name(); }
    virtual svg_buffer *alloc_buffer(size_t size) = 0;
    virtual size_t alignment() const = 0;
    virtual bool supports_op(const svg_tensor *node) const = 0;
    virtual bool graph_compute(svg_graph *g) = 0;
    virtual void synchronize() {}
};

struct svg_graph {
    svg_context *ctx = nullptr;
    std::vector<svg_tensor *> nodes;  // op != NONE, topological order
    std::vector<svg_tensor *> leafs;  // op == NONE
};

// ---------------------------------------------------------------- helpers
// Root tensor owning the memory of t (t itself if not a view).
static inline svg_tensor *svg_view_root(svg_tensor *t) {
    while (t->view_src) t = t->view_src;
    return t;
}
static inline bool svg_is_view_op(const svg_tensor *t) { return t->op == SVG_OP_VIEW; }

// Contiguous strides for a shape.
void svg_contiguous_strides(enum svg_type type, int n_dims, const int64_t *ne, size_t *nb);
// Set data pointers of views from their roots (after allocation).
void svg_init_view(svg_tensor *t);
// Shape text for error messages.
std::string svg_shape_string(const svg_tensor *t);

// ---------------------------------------------------------------- op params
// Layout of op_params per op (all int32 slots; floats stored bitwise):
//   SCALE              [0] s  [1] b                                  (f32)
//   UNARY              [0] svg_unary_op
//   NORM               [0] kind [1] dim0 [2] n_norm_dims [3] eps(f32); src: x, w, b, scale, shift
//   GROUP_NORM         [0] n_groups [1] eps(f32); src: x, w, b
//   MUL_MAT            src: a, b, bias
//   GET_ROWS           src: table, ids
//   CONCAT             [0] dim
//   PAD                [0] mode [1] value(f32) [2+2i] before_i [3+2i] after_i
//   UPSAMPLE_NEAREST   [0] n [1..n] factors (innermost n dims)
//   CONV3D             [0..2] stride d,h,w [3..8] pad d0,d1,h0,h1,w0,w1; src: x, w, bias
//   TIMESTEP_EMBEDDING [0] dim [1] flip_sin_to_cos [2] shift(f32) [3] scale(f32) [4] max_period(f32)
//   ROPE               [0] n_axes [1] mode [2] theta(f32) [3..3+n_axes) axes_dim; src: x, pos
//   ATTENTION          [0] scale(f32) [1] causal; src: q, k, v, bias, key_mask
static inline float svg_param_f32(const svg_tensor *t, int i) {
    float f;
    memcpy(&f, &t->op_params[i], 4);
    return f;
}
static inline void svg_set_param_f32(svg_tensor *t, int i, float f) { memcpy(&t->op_params[i], &f, 4); }

// ---------------------------------------------------------- Sparse VideoGen
#ifdef __CUDACC__
#define SVG_HOST_DEVICE __host__ __device__
#else
#define SVG_HOST_DEVICE
#endif
// The svg_sparse_layout of a sparse ATTENTION / SPARSE_PROFILE /
// SPARSE_PERMUTE node, kept in op_params[first .. first+5] (svg.h states the
// semantics). Shared by every backend so they agree on the mask.
struct svg_sparse_mask {
    int64_t text_before = 0, frames = 1, tpf = 1, text_after = 0, sink = 0, band = 0;
    SVG_HOST_DEVICE int64_t video() const { return frames * tpf; }
    SVG_HOST_DEVICE int64_t length() const { return text_before + video() + text_after; }
    // position among the video rows of frame-major video index u in a head of kind
    SVG_HOST_DEVICE int64_t position(int kind, int64_t u) const {
        const int64_t f = u / tpf, s = u % tpf;
        if (kind == 0 || f < sink) return u;
        return sink * tpf + s * (frames - sink) + (f - sink);
    }
    // key position pj visible to query position pi (video positions; text is
    // visible both ways and handled by the callers' row ranges)
    SVG_HOST_DEVICE bool video_visible(int64_t pi, int64_t pj) const {
        return pj < sink * tpf || (pi > pj ? pi - pj : pj - pi) <= band;
    }
    // sequence rows i (query) and j (key), both in the head's order
    SVG_HOST_DEVICE bool visible(int64_t i, int64_t j) const {
        const int64_t v0 = text_before, v1 = text_before + video();
        if (i < v0 || i >= v1 || j < v0 || j >= v1) return true;
        return video_visible(i - v0, j - v0);
    }
};
static inline void svg_sparse_store(svg_tensor *t, int first, const svg_sparse_mask &m) {
    const int64_t v[6] = {m.text_before, m.frames, m.tpf, m.text_after, m.sink, m.band};
    for (int i = 0; i < 6; i++) t->op_params[first + i] = (int32_t)v[i];
}
static inline svg_sparse_mask svg_sparse_load(const svg_tensor *t, int first) {
    svg_sparse_mask m;
    m.text_before = t->op_params[first];
    m.frames = t->op_params[first + 1];
    m.tpf = t->op_params[first + 2];
    m.text_after = t->op_params[first + 3];
    m.sink = t->op_params[first + 4];
    m.band = t->op_params[first + 5];
    return m;
}
// Video row (frame-major index) of profiling sample k of (batch b, head h).
SVG_HOST_DEVICE static inline int64_t svg_sparse_sample_row(uint32_t seed, int64_t b, int64_t h, int64_t k, int64_t video) {
    uint32_t x = seed ^ (uint32_t)(b * 0x9E3779B1u) ^ (uint32_t)(h * 0x85EBCA77u) ^ (uint32_t)(k * 0xC2B2AE3Du);
    x ^= x >> 16;
    x *= 0x7FEB352Du;
    x ^= x >> 15;
    x *= 0x846CA68Bu;
    x ^= x >> 16;
    return (int64_t)(x % (uint32_t)video);
}
