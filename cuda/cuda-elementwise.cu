// Elementwise kernels (binary with broadcasting, scale, unary, softmax, and
// the fused gated activation act(x)·y). Inputs: any float type and strides;
// output: contiguous, dst->type. Math in f32.
//
// Two kinds of kernel per op:
// - generic (binary_kernel, unary_kernel): one element per thread step,
//   every operand addressed through its shape and strides (64-bit div/mod per
//   dim per element, svg_cuda_offset) and 2- or 4-byte accesses. Any layout.
// - vector (vec_*_kernel): the layouts the models actually produce, at copy
//   bandwidth. See "vector fast paths" below.
#include "cuda-common.cuh"

#include <algorithm>
#include <type_traits>

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

struct f_scale { float s, b; __device__ float operator()(float x) const { return x * s + b; } };
struct f_gelu { __device__ float operator()(float x) const { return 0.5f * x * (1.0f + erff(x * 0.70710678118654752f)); } };
// 0.5·x·(1 + tanh(u)) = x·σ(2u) = x / (1 + e^(−2u)), u = √(2/π)(x + 0.044715x³):
// one expf and a fast divide instead of tanhf (fewer instructions, and no
// cancellation in 1 + tanh(u) for negative x). __fdividef returns 0 for
// divisors beyond 2^126, the limit of x / (1 + e^(−2u)) there anyway.
struct f_gelu_tanh {
    __device__ float operator()(float x) const {
        const float u2 = 1.5957691216057308f * (x + 0.044715f * x * x * x);  // 2u
        return __fdividef(x, 1.0f + expf(-u2));
    }
};
struct f_silu { __device__ float operator()(float x) const { return __fdividef(x, 1.0f + expf(-x)); } };
struct f_relu { __device__ float operator()(float x) const { return x > 0.f ? x : 0.f; } };
struct f_exp { __device__ float operator()(float x) const { return expf(x); } };
struct f_tanh { __device__ float operator()(float x) const { return tanhf(x); } };
struct f_sigmoid { __device__ float operator()(float x) const { return __fdividef(1.0f, 1.0f + expf(-x)); } };
struct f_id { __device__ float operator()(float x) const { return x; } };

// ---------------------------------------------------------------- vector fast paths
//
// Nearly all elementwise work in the models is dense: dst and its inputs are
// contiguous tensors of one shape (unary ops, residual adds, umT5's
// act(x)·y), or the second operand is shared across rows (Wan's gated
// residual h + y·gate with gate = a [B, 1, C] slice of the f32 modulation,
// biases [C], per-row scalars [rows, 1]). For those:
//
//   dst (and a) = nvec vectors of 8 consecutive elements (+ a tail of
//   n % 8 elements): 16 bytes for f16/bf16, 32 bytes (two 16-byte
//   accesses) for f32. Grid-stride loop, vector v = elements 8v .. 8v + 7.
//   b, by mode (the right side of dst viewed as rows × N, N = innermost dim):
//     B_FULL  dense like a: the same 8 elements of b;
//     B_ROW   row r = v / vpr (vpr = N / 8 vectors per row), column vector
//             c = v − r·vpr: 8 elements at boff(r) + 8c (b contiguous
//             along the row; the rows are shared, so they come from L1/L2);
//     B_COL   one value per row at boff(r), broadcast over the vector;
//   boff(r) = Σ ((r / div_i) % mod_i)·stride_i over b's non-broadcast outer
//   dims (svg_row_map; none at all for Wan's [1, 1, C] gate).
//
// So the index math is one 32-bit div per 8 elements (ROW/COL) or none
// (FULL), every DRAM access is a 16-byte vector, math stays in f32 registers.
// Requirements, else the generic kernel runs: a (and for the gated op, x and
// y) of dst's type, b of dst's type or f32 (f32 modulation with 16-bit
// activations); 16-byte aligned data (and, for B_ROW, row strides);
// N % 8 == 0 for B_ROW/B_COL (a vector never straddles two rows); fewer
// than 2^31 vectors (32-bit indices that cannot wrap in the stride loop).
//
// Bytes in flight: 256-thread blocks, at most 8 per SM launched (2048
// threads); each thread has its 16 B (+ 16–32 B of b) load outstanding per
// step, 32–96 KB per SM at full occupancy against the ~16 KB an H100 SM
// needs to cover DRAM latency at ~2.6 TB/s (bench/NOTES-bandwidth.md).

enum { B_FULL, B_ROW, B_COL };
constexpr int kVecThreads = 256;
constexpr int kVecBlocksPerSM = 8;  // 2048 threads, ≤ 32 registers each: a full sm_80/sm_90 SM

struct vec_args {
    char *y;
    const char *a, *b;
    uint32_t nvec;  // whole vectors of dst
    uint32_t tail;  // B_FULL: elements after the last whole vector (< 8)
    uint32_t vpr;   // B_ROW/B_COL: vectors per row
    int op;
    svg_row_map mb;  // B_ROW/B_COL: b's row offsets
};

// 8 elements of T at p (16-byte aligned) → f32
template <typename T>
__device__ __forceinline__ void ld8(const char *p, float (&f)[8]) {
    uint4 u[sizeof(T) / 2];
#pragma unroll
    for (int i = 0; i < (int)(sizeof(T) / 2); i++) u[i] = reinterpret_cast<const uint4 *>(p)[i];
    const T *e = reinterpret_cast<const T *>(u);
#pragma unroll
    for (int i = 0; i < 8; i++) f[i] = svg_ld(e + i);
}

// f32 → 8 elements of T at p (16-byte aligned), round to nearest even
template <typename T>
__device__ __forceinline__ void st8(char *p, const float (&f)[8]) {
    uint4 u[sizeof(T) / 2];
    if constexpr (std::is_same<T, __nv_bfloat16>::value) {
        __nv_bfloat162 *e = reinterpret_cast<__nv_bfloat162 *>(u);
#pragma unroll
        for (int i = 0; i < 4; i++) e[i] = __floats2bfloat162_rn(f[2 * i], f[2 * i + 1]);
    } else if constexpr (std::is_same<T, __half>::value) {
        __half2 *e = reinterpret_cast<__half2 *>(u);
#pragma unroll
        for (int i = 0; i < 4; i++) e[i] = __floats2half2_rn(f[2 * i], f[2 * i + 1]);
    } else {
        float *e = reinterpret_cast<float *>(u);
#pragma unroll
        for (int i = 0; i < 8; i++) e[i] = f[i];
    }
#pragma unroll
    for (int i = 0; i < (int)(sizeof(T) / 2); i++) reinterpret_cast<uint4 *>(p)[i] = u[i];
}


__device__ __forceinline__ float apply_op(int op, float x0, float x1) {
    switch (op) {
        case OP_ADD: return x0 + x1;
        case OP_SUB: return x0 - x1;
        case OP_MUL: return x0 * x1;
        default: return x0 / x1;
    }
}

// y = fa(a) op b. fa is the identity for plain binary ops and the activation
// for the gated act(x)·y (x = a, y = b, op = MUL). The op switch sits
// outside the 8-element loops (uniform across the grid).
template <typename TD, typename TB, int BM, typename FA>
__global__ void __launch_bounds__(kVecThreads, kVecBlocksPerSM) vec_binary_kernel(const vec_args p, FA fa) {
    constexpr uint32_t VA = 8 * sizeof(TD), VB = 8 * sizeof(TB);  // bytes per vector
    const uint32_t G = gridDim.x * blockDim.x, t0 = blockIdx.x * blockDim.x + threadIdx.x;
    for (uint32_t v = t0; v < p.nvec; v += G) {
        float x[8], z[8];
        ld8<TD>(p.a + (size_t)v * VA, x);
        if constexpr (BM == B_FULL) {
            ld8<TB>(p.b + (size_t)v * VB, z);
        } else {
            const uint32_t r = v / p.vpr;
            const char *pb = p.b + svg_row_offset(p.mb, r);
            if constexpr (BM == B_ROW) {
                ld8<TB>(pb + (size_t)(v - r * p.vpr) * VB, z);
            } else {
                const float s = svg_ld(reinterpret_cast<const TB *>(pb));
#pragma unroll
                for (int i = 0; i < 8; i++) z[i] = s;
            }
        }
#pragma unroll
        for (int i = 0; i < 8; i++) x[i] = fa(x[i]);
        switch (p.op) {
            case OP_ADD:
#pragma unroll
                for (int i = 0; i < 8; i++) x[i] += z[i];
                break;
            case OP_SUB:
#pragma unroll
                for (int i = 0; i < 8; i++) x[i] -= z[i];
                break;
            case OP_MUL:
#pragma unroll
                for (int i = 0; i < 8; i++) x[i] *= z[i];
                break;
            default:
#pragma unroll
                for (int i = 0; i < 8; i++) x[i] /= z[i];
                break;
        }
        st8<TD>(p.y + (size_t)v * VA, x);
    }
    if constexpr (BM == B_FULL) {  // the last n % 8 elements, one per thread
        if (t0 < p.tail) {
            const size_t e = (size_t)p.nvec * 8 + t0;
            const float r = apply_op(p.op, fa(svg_ld(reinterpret_cast<const TD *>(p.a) + e)), svg_ld(reinterpret_cast<const TB *>(p.b) + e));
            svg_st(reinterpret_cast<TD *>(p.y) + e, r);
        }
    }
}

// y = f(a), a dense and of dst's type
template <typename TD, typename F>
__global__ void __launch_bounds__(kVecThreads, kVecBlocksPerSM) vec_unary_kernel(char *y, const char *a, uint32_t nvec, uint32_t tail, F f) {
    constexpr uint32_t VA = 8 * sizeof(TD);
    const uint32_t G = gridDim.x * blockDim.x, t0 = blockIdx.x * blockDim.x + threadIdx.x;
    for (uint32_t v = t0; v < nvec; v += G) {
        float x[8];
        ld8<TD>(a + (size_t)v * VA, x);
#pragma unroll
        for (int i = 0; i < 8; i++) x[i] = f(x[i]);
        st8<TD>(y + (size_t)v * VA, x);
    }
    if (t0 < tail) {
        const size_t e = (size_t)nvec * 8 + t0;
        svg_st(reinterpret_cast<TD *>(y) + e, f(svg_ld(reinterpret_cast<const TD *>(a) + e)));
    }
}

bool is_act_type(int t) { return t == SVG_TYPE_F32 || t == SVG_TYPE_F16 || t == SVG_TYPE_BF16; }
bool aligned16(const void *p) { return ((uintptr_t)p & 15) == 0; }
int64_t elem_size(int t) { return t == SVG_TYPE_F32 ? 4 : 2; }

// A dense operand of the vector paths: contiguous, dst's element count,
// 16-byte aligned.
bool vec_dense(const svg_tensor *s, const svg_tensor *dst) { return contiguous_full(s, dst) && aligned16(s->data); }

// Grid: enough 256-thread blocks for one vector per thread, at most as many
// as fit on the device at once (8 per SM on the H100: 2048 threads at ≤ 32
// registers, which the launch bounds enforce), so every block is resident
// from the start and the stride loop splits the work evenly (a second,
// partial wave of blocks would leave SMs idle at the end). At least one
// block, for the tail.
unsigned vec_blocks(const svg_cuda_ctx &c, uint32_t nvec) {
    const uint64_t need = ((uint64_t)nvec + kVecThreads - 1) / kVecThreads;
    const int per_sm = std::max(1, std::min(kVecBlocksPerSM, c.max_threads_sm / kVecThreads));
    const uint64_t cap = (uint64_t)std::max(c.n_sm, 1) * per_sm;
    return (unsigned)std::max<uint64_t>(1, std::min(need, cap));
}

// The broadcast operand b of dst = a op b in B_ROW / B_COL form; false: the
// layout is not one of those (the generic kernel runs).
bool vec_bcast_map(const svg_tensor *b, const svg_tensor *dst, int *mode, svg_row_map *m) {
    const svg_cuda_shape s = svg_cuda_shape_bcast(b, dst);
    const int n = s.n;
    if (n < 1 || dst->ne[n - 1] % 8) return false;
    if (s.nb[n - 1] == elem_size(b->type)) *mode = B_ROW;
    else if (s.nb[n - 1] == 0) *mode = B_COL;
    else return false;
    if (*mode == B_ROW && !aligned16(b->data)) return false;
    return svg_row_map_of(s, *mode == B_ROW ? 16 : 1, m);  // a column broadcast reads single elements
}

template <typename TD, typename TB, int BM, typename FA>
bool launch_vec_binary(svg_cuda_ctx &c, const vec_args &p, FA fa) {
    vec_binary_kernel<TD, TB, BM><<<vec_blocks(c, p.nvec), kVecThreads, 0, c.stream>>>(p, fa);
    SVG_CUDA_LAUNCHED();
    return true;
}

template <typename TD, typename TB>
bool launch_vec_binary_mode(svg_cuda_ctx &c, const vec_args &p, int mode) {
    switch (mode) {
        case B_FULL: return launch_vec_binary<TD, TB, B_FULL>(c, p, f_id{});
        case B_ROW: return launch_vec_binary<TD, TB, B_ROW>(c, p, f_id{});
        default: return launch_vec_binary<TD, TB, B_COL>(c, p, f_id{});
    }
}

template <typename TD>
bool launch_vec_binary_td(svg_cuda_ctx &c, const vec_args &p, int mode, bool b_f32) {
    if (b_f32) return launch_vec_binary_mode<TD, float>(c, p, mode);
    return launch_vec_binary_mode<TD, TD>(c, p, mode);
}

// dst = a op b through a vector kernel; *done = false when the layouts do
// not fit (nothing enqueued).
bool vec_binary(svg_cuda_ctx &c, svg_tensor *dst, int op, bool *done) {
    *done = false;
    const svg_tensor *a = dst->src[0], *b = dst->src[1];
    const int64_t n = svg_nelements(dst);
    if (!is_act_type(dst->type) || !aligned16(dst->data) || n / 8 >= (1ll << 31)) return true;
    // a broadcast, b dense: the same kernel with the operands swapped, for
    // the commutative ops (b must then be of dst's type)
    if (!vec_dense(a, dst) && vec_dense(b, dst) && (op == OP_ADD || op == OP_MUL) && b->type == dst->type) std::swap(a, b);
    if (a->type != dst->type || !vec_dense(a, dst) || (b->type != dst->type && b->type != SVG_TYPE_F32)) return true;
    vec_args p{};
    p.y = (char *)dst->data;
    p.a = (const char *)a->data;
    p.b = (const char *)b->data;
    p.nvec = (uint32_t)(n / 8);
    p.op = op;
    int mode = B_FULL;
    if (vec_dense(b, dst)) {
        p.tail = (uint32_t)(n % 8);
    } else {
        if (!vec_bcast_map(b, dst, &mode, &p.mb)) return true;
        p.vpr = (uint32_t)(dst->ne[dst->n_dims - 1] / 8);
    }
    *done = true;
    const bool b_f32 = b->type == SVG_TYPE_F32;
    switch (dst->type) {
        case SVG_TYPE_F16: return launch_vec_binary_td<__half>(c, p, mode, b_f32);
        case SVG_TYPE_BF16: return launch_vec_binary_td<__nv_bfloat16>(c, p, mode, b_f32);
        default: return launch_vec_binary_td<float>(c, p, mode, b_f32);
    }
}

// ---- gated activation: mul = act(x) · y in one pass (see svg_cuda_gated_ok)

bool gated_act_op(int u) { return u == SVG_UNARY_GELU || u == SVG_UNARY_GELU_TANH || u == SVG_UNARY_SILU; }

template <typename TD>
bool launch_gated_td(svg_cuda_ctx &c, const vec_args &p, int u) {
    switch (u) {
        case SVG_UNARY_GELU: return launch_vec_binary<TD, TD, B_FULL>(c, p, f_gelu{});
        case SVG_UNARY_GELU_TANH: return launch_vec_binary<TD, TD, B_FULL>(c, p, f_gelu_tanh{});
        default: return launch_vec_binary<TD, TD, B_FULL>(c, p, f_silu{});
    }
}

// y = f(a): the vector kernel when a is dense and of dst's type, else the
// generic one
template <typename F>
bool launch_unary(svg_cuda_ctx &c, svg_tensor *dst, F f) {
    const svg_tensor *a = dst->src[0];
    const int64_t n = svg_nelements(dst);
    if (n == 0) return true;
    if (is_act_type(dst->type) && a->type == dst->type && vec_dense(a, dst) && aligned16(dst->data) && n / 8 < (1ll << 31)) {
        const uint32_t nvec = (uint32_t)(n / 8), tail = (uint32_t)(n % 8);
        const unsigned blocks = vec_blocks(c, nvec);
        char *y = (char *)dst->data;
        const char *pa = (const char *)a->data;
        switch (dst->type) {
            case SVG_TYPE_F16: vec_unary_kernel<__half><<<blocks, kVecThreads, 0, c.stream>>>(y, pa, nvec, tail, f); break;
            case SVG_TYPE_BF16: vec_unary_kernel<__nv_bfloat16><<<blocks, kVecThreads, 0, c.stream>>>(y, pa, nvec, tail, f); break;
            default: vec_unary_kernel<float><<<blocks, kVecThreads, 0, c.stream>>>(y, pa, nvec, tail, f); break;
        }
        SVG_CUDA_LAUNCHED();
        return true;
    }
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
    const int op = dst->op == SVG_OP_ADD ? OP_ADD : dst->op == SVG_OP_SUB ? OP_SUB : dst->op == SVG_OP_MUL ? OP_MUL : OP_DIV;
    bool done = false;
    if (!vec_binary(c, dst, op, &done)) return false;
    if (done) return true;
    const svg_cuda_shape sa = svg_cuda_shape_bcast(a, dst), sb = svg_cuda_shape_bcast(b, dst);
    const bool fast = contiguous_full(a, dst) && contiguous_full(b, dst);
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

// The gated pass reads x and y and writes mul's output in one sweep, vector
// v of each at the same element offsets. Output memory is the planner's
// choice made at the MUL, after act's input x was released, so it may sit on
// x or y: exactly on one of them (same address; same type and element count
// make it the same layout) is safe, since every thread reads its vector
// before writing that same vector; any other overlap would let a write land
// on a vector another thread has not read yet.
bool svg_cuda_gated_ok(const svg_tensor *act, const svg_tensor *mul) {
    if (act->op != SVG_OP_UNARY || !gated_act_op(act->op_params[0]) || mul->op != SVG_OP_MUL) return false;
    if ((mul->src[0] == act) == (mul->src[1] == act)) return false;  // act on one side only
    const svg_tensor *x = act->src[0], *y = mul->src[0] == act ? mul->src[1] : mul->src[0];
    const int t = mul->type;
    if (!is_act_type(t) || act->type != t || x->type != t || y->type != t) return false;
    const int64_t n = svg_nelements(mul);
    if (svg_nelements(act) != n || !svg_is_contiguous(mul) || !aligned16(mul->data) || !vec_dense(x, mul) || !vec_dense(y, mul) ||
        n / 8 >= (1ll << 31))
        return false;
    for (const svg_tensor *s : {x, y})
        if (s->data != mul->data && svg_cuda_overlap(s, mul)) return false;
    return true;
}

bool svg_cuda_gated(svg_cuda_ctx &c, const svg_tensor *act, svg_tensor *mul) {
    const svg_tensor *x = act->src[0], *y = mul->src[0] == act ? mul->src[1] : mul->src[0];
    const int64_t n = svg_nelements(mul);
    if (n == 0) return true;
    vec_args p{};
    p.y = (char *)mul->data;
    p.a = (const char *)x->data;
    p.b = (const char *)y->data;
    p.nvec = (uint32_t)(n / 8);
    p.tail = (uint32_t)(n % 8);
    p.op = OP_MUL;
    const int u = act->op_params[0];
    switch (mul->type) {
        case SVG_TYPE_F16: return launch_gated_td<__half>(c, p, u);
        case SVG_TYPE_BF16: return launch_gated_td<__nv_bfloat16>(c, p, u);
        default: return launch_gated_td<float>(c, p, u);
    }
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
