// Elementwise kernels: binary ops with broadcasting, scale, unary, softmax.
// All compute in f32; inputs may be strided views, outputs are contiguous.
#include "cpu-impl.h"

#include <cmath>

namespace {

// Calls fn(row, idx) for every innermost row of dst in parallel; idx is the
// row's outer index (innermost entry 0).
template <typename F>
void for_each_row(const svg_cpu_ctx &c, const svg_tensor *dst, F fn) {
    const int64_t n_rows = svg_nrows(dst);
    const int64_t row_len = dst->n_dims ? dst->ne[dst->n_dims - 1] : 1;
    c.parallel_for(n_rows, [&](int64_t r0, int64_t r1) {
        int64_t idx[SVG_MAX_DIMS] = {0};
        for (int64_t r = r0; r < r1; r++) {
            svg_unravel(dst, r * row_len, idx);
            fn(r, idx);
        }
    }, std::max<int64_t>(1, 16384 / std::max<int64_t>(1, row_len)));
}

// innermost stride of src within a broadcast result (0 when broadcast)
size_t inner_stride(const svg_tensor *s, const svg_tensor *dst) {
    if (s->n_dims == 0) return 0;
    const int64_t n = s->ne[s->n_dims - 1];
    return (n == 1 && dst->ne[dst->n_dims - 1] != 1) ? 0 : s->nb[s->n_dims - 1];
}

}  // namespace

bool svg_cpu_binary(const svg_cpu_ctx &c, svg_tensor *dst) {
    const svg_tensor *a = dst->src[0], *b = dst->src[1];
    const int n = dst->n_dims;
    const int64_t len = n ? dst->ne[n - 1] : 1;
    const size_t sa = inner_stride(a, dst), sb = inner_stride(b, dst);
    const enum svg_op op = dst->op;
    for_each_row(c, dst, [&](int64_t r, const int64_t *idx) {
        const char *pa = (const char *)a->data + svg_offset_bcast(a, idx, n);
        const char *pb = (const char *)b->data + svg_offset_bcast(b, idx, n);
        float *y = (float *)dst->data + r * len;
        for (int64_t i = 0; i < len; i++) {
            const float x0 = *(const float *)(pa + i * sa), x1 = *(const float *)(pb + i * sb);
            switch (op) {
                case SVG_OP_ADD: y[i] = x0 + x1; break;
                case SVG_OP_SUB: y[i] = x0 - x1; break;
                case SVG_OP_MUL: y[i] = x0 * x1; break;
                default: y[i] = x0 / x1; break;
            }
        }
    });
    return true;
}

// Applies f elementwise from src[0] (same shape, any strides) into dst.
template <typename F>
static void map_unary(const svg_cpu_ctx &c, svg_tensor *dst, F f) {
    const svg_tensor *a = dst->src[0];
    const int n = dst->n_dims;
    const int64_t len = n ? dst->ne[n - 1] : 1;
    const size_t sa = n ? a->nb[n - 1] : 0;
    for_each_row(c, dst, [&](int64_t r, const int64_t *idx) {
        const char *pa = (const char *)a->data + svg_offset(a, idx);
        float *y = (float *)dst->data + r * len;
        for (int64_t i = 0; i < len; i++) y[i] = f(*(const float *)(pa + i * sa));
    });
}

bool svg_cpu_scale(const svg_cpu_ctx &c, svg_tensor *dst) {
    const float s = svg_param_f32(dst, 0), b = svg_param_f32(dst, 1);
    map_unary(c, dst, [=](float x) { return x * s + b; });
    return true;
}

bool svg_cpu_unary(const svg_cpu_ctx &c, svg_tensor *dst) {
    switch ((enum svg_unary_op)dst->op_params[0]) {
        case SVG_UNARY_GELU:
            map_unary(c, dst, [](float x) { return 0.5f * x * (1.0f + erff(x * 0.70710678118654752f)); });
            return true;
        case SVG_UNARY_GELU_TANH:
            map_unary(c, dst, [](float x) {
                return 0.5f * x * (1.0f + tanhf(0.79788456080286536f * (x + 0.044715f * x * x * x)));
            });
            return true;
        case SVG_UNARY_SILU: map_unary(c, dst, [](float x) { return x / (1.0f + expf(-x)); }); return true;
        case SVG_UNARY_RELU: map_unary(c, dst, [](float x) { return x > 0 ? x : 0.0f; }); return true;
        case SVG_UNARY_EXP: map_unary(c, dst, [](float x) { return expf(x); }); return true;
        case SVG_UNARY_TANH: map_unary(c, dst, [](float x) { return tanhf(x); }); return true;
        case SVG_UNARY_SIGMOID: map_unary(c, dst, [](float x) { return 1.0f / (1.0f + expf(-x)); }); return true;
        default: return svg_err(false, "CPU: unknown unary op %d", dst->op_params[0]);
    }
}

// softmax over the innermost dim: subtract the row max for stability
bool svg_cpu_softmax(const svg_cpu_ctx &c, svg_tensor *dst) {
    const svg_tensor *a = dst->src[0];
    const int n = dst->n_dims;
    const int64_t len = dst->ne[n - 1];
    const size_t sa = a->nb[n - 1];
    for_each_row(c, dst, [&](int64_t r, const int64_t *idx) {
        const char *pa = (const char *)a->data + svg_offset(a, idx);
        float *y = (float *)dst->data + r * len;
        float m = -INFINITY;
        for (int64_t i = 0; i < len; i++) m = std::max(m, *(const float *)(pa + i * sa));
        double sum = 0;
        for (int64_t i = 0; i < len; i++) {
            y[i] = expf(*(const float *)(pa + i * sa) - m);
            sum += y[i];
        }
        const float inv = (float)(1.0 / sum);
        for (int64_t i = 0; i < len; i++) y[i] *= inv;
    });
    return true;
}
