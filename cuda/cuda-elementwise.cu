// Elementwise kernels (binary with broadcasting, scale, unary, softmax).
// Inputs: any float type and strides; output: contiguous, dst->type.
// Math in f32. Contiguous same-shape operands take a fast path without
// per-element index arithmetic.
#include "cuda-common.cuh"

namespace {

enum { OP_ADD, OP_SUB, OP_MUL, OP_DIV };

template <typename TD>
__global__ void binary_kernel(TD *y, const char *a, const char *b, svg_cuda_shape sa, svg_cuda_shape sb,
                              int ta, int tb, int op, int64_t n, bool fast) {
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x) {
        const float x0 = fast ? svg_ld_any(a + i * sa.nb[sa.n - 1], ta) : svg_ld_any(a + svg_cuda_offset(sa, i), ta);
        const float x1 = fast ? svg_ld_any(b + i * sb.nb[sb.n - 1], tb) : svg_ld_any(b + svg_cuda_offset(sb, i), tb);
        float r;
        switch (op) {
            case OP_ADD: r = x0 + x1; break;
            case OP_SUB: r = x0 - x1; break;
            case OP_MUL: r = x0 * x1; break;
            default: r = x0 / x1; break;
        }
        svg_st(y + i, r);
    }
}

template <typename TD, typename F>
__global__ void unary_kernel(TD *y, const char *a, svg_cuda_shape sa, int ta, int64_t n, bool fast, F f) {
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x) {
        const float x = fast ? svg_ld_any(a + i * sa.nb[sa.n - 1], ta) : svg_ld_any(a + svg_cuda_offset(sa, i), ta);
        svg_st(y + i, f(x));
    }
}

bool contiguous_full(const svg_tensor *s, const svg_tensor *dst) {
    return svg_is_contiguous(s) && svg_nelements(s) == svg_nelements(dst) && s->n_dims > 0;
}

template <typename F>
bool launch_unary(svg_cuda_ctx &c, svg_tensor *dst, F f) {
    const svg_tensor *a = dst->src[0];
    const int64_t n = svg_nelements(dst);
    if (n == 0) return true;
    svg_cuda_shape sa = svg_cuda_shape_of(a);
    const bool fast = contiguous_full(a, dst);
    const unsigned blocks = svg_cuda_blocks(n, 256);
    switch (dst->type) {
        case SVG_TYPE_F16: unary_kernel<<<blocks, 256, 0, c.stream>>>((__half *)dst->data, (const char *)a->data, sa, a->type, n, fast, f); break;
        case SVG_TYPE_BF16: unary_kernel<<<blocks, 256, 0, c.stream>>>((__nv_bfloat16 *)dst->data, (const char *)a->data, sa, a->type, n, fast, f); break;
        default: unary_kernel<<<blocks, 256, 0, c.stream>>>((float *)dst->data, (const char *)a->data, sa, a->type, n, fast, f); break;
    }
    SVG_CUDA_LAUNCHED();
    return true;
}

struct f_scale { float s, b; __device__ float operator()(float x) const { return x * s + b; } };
struct f_gelu { __device__ float operator()(float x) const { return 0.5f * x * (1.0f + erff(x * 0.70710678118654752f)); } };
struct f_gelu_tanh {
    __device__ float operator()(float x) const { return 0.5f * x * (1.0f + tanhf(0.79788456080286536f * (x + 0.044715f * x * x * x))); }
};
struct f_silu { __device__ float operator()(float x) const { return x / (1.0f + expf(-x)); } };
struct f_relu { __device__ float operator()(float x) const { return x > 0.f ? x : 0.f; } };
struct f_exp { __device__ float operator()(float x) const { return expf(x); } };
struct f_tanh { __device__ float operator()(float x) const { return tanhf(x); } };
struct f_sigmoid { __device__ float operator()(float x) const { return 1.0f / (1.0f + expf(-x)); } };

// one block per row; two block reductions (max, sum) in shared memory
template <typename TD>
__global__ void softmax_kernel(TD *y, const char *a, svg_cuda_shape sa, int ta, int64_t len) {
    const int64_t row = blockIdx.x;
    const char *pa = a + svg_cuda_offset(sa, row * len);
    const int64_t st = sa.nb[sa.n - 1];
    __shared__ float red[32];
    float m = -INFINITY;
    for (int64_t i = threadIdx.x; i < len; i += blockDim.x) m = fmaxf(m, svg_ld_any(pa + i * st, ta));
    for (int o = 16; o; o >>= 1) m = fmaxf(m, __shfl_xor_sync(0xffffffff, m, o));
    if ((threadIdx.x & 31) == 0) red[threadIdx.x >> 5] = m;
    __syncthreads();
    m = -INFINITY;
    for (int w = 0; w < (int)(blockDim.x >> 5); w++) m = fmaxf(m, red[w]);
    __syncthreads();
    float s = 0;
    for (int64_t i = threadIdx.x; i < len; i += blockDim.x) s += expf(svg_ld_any(pa + i * st, ta) - m);
    for (int o = 16; o; o >>= 1) s += __shfl_xor_sync(0xffffffff, s, o);
    if ((threadIdx.x & 31) == 0) red[threadIdx.x >> 5] = s;
    __syncthreads();
    s = 0;
    for (int w = 0; w < (int)(blockDim.x >> 5); w++) s += red[w];
    const float inv = 1.0f / s;
    for (int64_t i = threadIdx.x; i < len; i += blockDim.x) svg_st(y + row * len + i, expf(svg_ld_any(pa + i * st, ta) - m) * inv);
}

}  // namespace

bool svg_cuda_binary(svg_cuda_ctx &c, svg_tensor *dst) {
    const svg_tensor *a = dst->src[0], *b = dst->src[1];
    const int64_t n = svg_nelements(dst);
    if (n == 0) return true;
    const svg_cuda_shape sa = svg_cuda_shape_bcast(a, dst), sb = svg_cuda_shape_bcast(b, dst);
    const bool fast = contiguous_full(a, dst) && contiguous_full(b, dst);
    const int op = dst->op == SVG_OP_ADD ? OP_ADD : dst->op == SVG_OP_SUB ? OP_SUB : dst->op == SVG_OP_MUL ? OP_MUL : OP_DIV;
    const unsigned blocks = svg_cuda_blocks(n, 256);
    const char *pa = (const char *)a->data, *pb = (const char *)b->data;
    switch (dst->type) {
        case SVG_TYPE_F16: binary_kernel<<<blocks, 256, 0, c.stream>>>((__half *)dst->data, pa, pb, sa, sb, a->type, b->type, op, n, fast); break;
        case SVG_TYPE_BF16: binary_kernel<<<blocks, 256, 0, c.stream>>>((__nv_bfloat16 *)dst->data, pa, pb, sa, sb, a->type, b->type, op, n, fast); break;
        default: binary_kernel<<<blocks, 256, 0, c.stream>>>((float *)dst->data, pa, pb, sa, sb, a->type, b->type, op, n, fast); break;
    }
    SVG_CUDA_LAUNCHED();
    return true;
}

bool svg_cuda_scale(svg_cuda_ctx &c, svg_tensor *dst) {
    return launch_unary(c, dst, f_scale{svg_param_f32(dst, 0), svg_param_f32(dst, 1)});
}

bool svg_cuda_unary(svg_cuda_ctx &c, svg_tensor *dst) {
    switch ((enum svg_unary_op)dst->op_params[0]) {
        case SVG_UNARY_GELU: return launch_unary(c, dst, f_gelu{});
        case SVG_UNARY_GELU_TANH: return launch_unary(c, dst, f_gelu_tanh{});
        case SVG_UNARY_SILU: return launch_unary(c, dst, f_silu{});
        case SVG_UNARY_RELU: return launch_unary(c, dst, f_relu{});
        case SVG_UNARY_EXP: return launch_unary(c, dst, f_exp{});
        case SVG_UNARY_TANH: return launch_unary(c, dst, f_tanh{});
        case SVG_UNARY_SIGMOID: return launch_unary(c, dst, f_sigmoid{});
        default: return svg_err(false, "CUDA: unknown unary op %d", dst->op_params[0]);
    }
}

bool svg_cuda_softmax(svg_cuda_ctx &c, svg_tensor *dst) {
    const svg_tensor *a = dst->src[0];
    const int64_t len = dst->ne[dst->n_dims - 1], rows = svg_nrows(dst);
    if (rows == 0 || len == 0) return true;
    if (rows > 0x7fffffff) return svg_err(false, "CUDA softmax: too many rows");
    const svg_cuda_shape sa = svg_cuda_shape_of(a);
    switch (dst->type) {
        case SVG_TYPE_F16: softmax_kernel<<<(unsigned)rows, 256, 0, c.stream>>>((__half *)dst->data, (const char *)a->data, sa, a->type, len); break;
        case SVG_TYPE_BF16: softmax_kernel<<<(unsigned)rows, 256, 0, c.stream>>>((__nv_bfloat16 *)dst->data, (const char *)a->data, sa, a->type, len); break;
        default: softmax_kernel<<<(unsigned)rows, 256, 0, c.stream>>>((float *)dst->data, (const char *)a->data, sa, a->type, len); break;
    }
    SVG_CUDA_LAUNCHED();
    return true;
}
