// CUDA backend internals shared by the kernel files: error checking, the
// per-backend context (stream, cuBLASLt handle and plans, scratch), element
// load/store for f32/f16/bf16, and the launch signature of every op family.
#pragma once

#include <cublasLt.h>
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <array>
#include <map>

#include "../src/svg-impl.h"

#define SVG_CUDA_CHECK(expr)                                                                   \
    do {                                                                                       \
        cudaError_t err_ = (expr);                                                             \
        if (err_ != cudaSuccess)                                                               \
            return svg_err(false, "CUDA error %s at %s:%d: %s", cudaGetErrorName(err_), __FILE__, \
                           __LINE__, cudaGetErrorString(err_));                                \
    } while (0)

// after a launch: configuration errors surface here, faults at the next sync
#define SVG_CUDA_LAUNCHED() SVG_CUDA_CHECK(cudaGetLastError())

// The algorithm cuBLASLt's heuristic chose for one GEMM problem (found =
// false: it has none, and the caller takes another path).
struct svg_cuda_gemm_algo {
    cublasLtMatmulAlgo_t algo;
    bool found;
};

struct svg_cuda_ctx {
    int device = 0;
    cudaStream_t stream = nullptr;
    // dense GEMMs (cuda-matmul.cu): the workspace is allocated with the backend
    // so no step allocates, and the heuristic runs once per problem (the key's
    // fields are laid out in cuda-matmul.cu)
    cublasLtHandle_t cublaslt = nullptr;
    void *gemm_workspace = nullptr;
    size_t gemm_workspace_size = 0;
    std::map<std::array<int64_t, 15>, svg_cuda_gemm_algo> gemm_algos;
    int n_sm = 0;
    int max_threads_sm = 2048;  // resident threads per SM (2048 on sm_80/90, 1536 on sm_86/89)
    int cc_major = 0, cc_minor = 0;  // compute capability (selects kernel paths)
    size_t smem_optin = 0;
    // device memory held: the backend's buffers, the scratch, the GEMM
    // workspace; mem_limit caps their sum (svg_backend_cuda_set_memory_limit, 0: none)
    size_t buffers_in_use = 0, mem_limit = 0;
    // scratch reused across ops within a graph (grows, never shrinks)
    void *scratch = nullptr;
    size_t scratch_size = 0;
    bool ensure_scratch(size_t bytes);
    // false + an error naming the budget when `more` bytes on top of what is
    // held, less `freed`, exceed mem_limit
    bool within_budget(size_t more, size_t freed, const char *what) const;
};

// Kernels by op family (one .cu file each). Each enqueues on c.stream.
bool svg_cuda_copy(svg_cuda_ctx &c, svg_tensor *dst);
bool svg_cuda_binary(svg_cuda_ctx &c, svg_tensor *dst);
bool svg_cuda_scale(svg_cuda_ctx &c, svg_tensor *dst);
bool svg_cuda_unary(svg_cuda_ctx &c, svg_tensor *dst);
bool svg_cuda_softmax(svg_cuda_ctx &c, svg_tensor *dst);
bool svg_cuda_sparse_profile(svg_cuda_ctx &c, svg_tensor *dst);  // cuda-sparse.cu
bool svg_cuda_sparse_permute(svg_cuda_ctx &c, svg_tensor *dst);
// Gated activation: MUL node `mul` reading UNARY node `act` (GELU, GELU_TANH
// or SILU of x) on one side and y on the other, as one pass act(x)·y into
// mul's output; act's output is never written. svg_cuda_gated_ok checks the
// layouts (x, y, mul dense, one type, 16-byte aligned) and the memory the
// planner chose (mul's output on x or y exactly, or apart from both); the
// caller checks the graph (nothing else reads act's result, which is no
// output, and x is intact when mul runs).
bool svg_cuda_gated_ok(const svg_tensor *act, const svg_tensor *mul);
bool svg_cuda_gated(svg_cuda_ctx &c, const svg_tensor *act, svg_tensor *mul);
bool svg_cuda_norm(svg_cuda_ctx &c, svg_tensor *dst);
bool svg_cuda_group_norm(svg_cuda_ctx &c, svg_tensor *dst);
bool svg_cuda_mul_mat(svg_cuda_ctx &c, svg_tensor *dst);
// MUL_MAT `mm` and GELU_TANH `gelu` of its result as one GEMM with cuBLASLt's
// GELU epilogue, written to gelu's output; *fused = false (nothing enqueued)
// when the pair cannot run that way.
bool svg_cuda_mul_mat_gelu(svg_cuda_ctx &c, svg_tensor *mm, svg_tensor *gelu, bool *fused);
bool svg_cuda_get_rows(svg_cuda_ctx &c, svg_tensor *dst);
bool svg_cuda_concat(svg_cuda_ctx &c, svg_tensor *dst);
bool svg_cuda_pad(svg_cuda_ctx &c, svg_tensor *dst);
bool svg_cuda_repeat(svg_cuda_ctx &c, svg_tensor *dst);
bool svg_cuda_upsample_nearest(svg_cuda_ctx &c, svg_tensor *dst);
bool svg_cuda_conv3d(svg_cuda_ctx &c, svg_tensor *dst);
bool svg_cuda_timestep_embedding(svg_cuda_ctx &c, svg_tensor *dst);
bool svg_cuda_rope(svg_cuda_ctx &c, svg_tensor *dst);
bool svg_cuda_attention(svg_cuda_ctx &c, svg_tensor *dst);
// For an attention key mask [B, Lk] (f32 or i32, nonzero = attend): per
// batch, how many leading keys it keeps (the first masked key's index, Lk
// if none), B ints at the start of c.scratch. The flash kernels test the
// mask element by element only on key tiles that reach past it, so a mask
// of padded keys at the end (HunyuanVideo's text) costs nothing elsewhere.
bool svg_cuda_mask_keep(svg_cuda_ctx &c, const svg_tensor *mask, const int **keep);

// ---- element access

__device__ __forceinline__ float svg_ld(const float *p) { return *p; }
__device__ __forceinline__ float svg_ld(const __half *p) { return __half2float(*p); }
__device__ __forceinline__ float svg_ld(const __nv_bfloat16 *p) { return __bfloat162float(*p); }
__device__ __forceinline__ void svg_st(float *p, float v) { *p = v; }
__device__ __forceinline__ void svg_st(__half *p, float v) { *p = __float2half_rn(v); }
__device__ __forceinline__ void svg_st(__nv_bfloat16 *p, float v) { *p = __float2bfloat16_rn(v); }

// Load a float of run-time type (f32/f16/bf16) at a byte address.
__device__ __forceinline__ float svg_ld_any(const char *p, int type) {
    switch (type) {
        case SVG_TYPE_F16: return __half2float(*(const __half *)p);
        case SVG_TYPE_BF16: return __bfloat162float(*(const __nv_bfloat16 *)p);
        default: return *(const float *)p;
    }
}
__device__ __forceinline__ void svg_st_any(char *p, int type, float v) {
    switch (type) {
        case SVG_TYPE_F16: *(__half *)p = __float2half_rn(v); break;
        case SVG_TYPE_BF16: *(__nv_bfloat16 *)p = __float2bfloat16_rn(v); break;
        default: *(float *)p = v; break;
    }
}

// Shape + strides passed by value to kernels (PyTorch order). For a source
// broadcast onto a result of rank n, shape/strides are right-aligned to n and
// broadcast dims get stride 0.
struct svg_cuda_shape {
    int n;
    int64_t ne[SVG_MAX_DIMS];
    int64_t nb[SVG_MAX_DIMS];  // bytes
};

static inline svg_cuda_shape svg_cuda_shape_of(const svg_tensor *t) {
    svg_cuda_shape s;
    s.n = t->n_dims;
    for (int i = 0; i < t->n_dims; i++) {
        s.ne[i] = t->ne[i];
        s.nb[i] = (int64_t)t->nb[i];
    }
    return s;
}
// src viewed in dst's index space (broadcast dims stride 0)
static inline svg_cuda_shape svg_cuda_shape_bcast(const svg_tensor *src, const svg_tensor *dst) {
    svg_cuda_shape s;
    s.n = dst->n_dims;
    for (int i = 0; i < dst->n_dims; i++) {
        const int j = i - (dst->n_dims - src->n_dims);
        s.ne[i] = dst->ne[i];
        s.nb[i] = (j >= 0 && src->ne[j] != 1) ? (int64_t)src->nb[j] : 0;
    }
    return s;
}

// Byte offset of the row-major linear index i of shape s.
__device__ __forceinline__ int64_t svg_cuda_offset(const svg_cuda_shape &s, int64_t i) {
    int64_t off = 0;
    for (int d = s.n - 1; d >= 0; d--) {
        const int64_t n = s.ne[d];
        off += (i % n) * s.nb[d];
        i /= n;
    }
    return off;
}

static inline unsigned svg_cuda_blocks(int64_t n, int threads) {
    const int64_t b = (n + threads - 1) / threads;
    return (unsigned)(b > 65535LL * 1024 ? 65535LL * 1024 : b);
}

// ---- GGUF block quantizations (layouts in src/svg-types.cpp)
struct svg_block_q8_0 {
    __half d;
    int8_t qs[32];
};
struct svg_block_q4_0 {
    __half d;
    uint8_t qs[16];
};
// ggml's k-quants, blocks of 256 (layouts and math in src/quants-k.{h,cpp})
struct svg_block_q4_k {
    __half d, dmin;
    uint8_t scales[12];
    uint8_t qs[128];
};
struct svg_block_q5_k {
    __half d, dmin;
    uint8_t scales[12];
    uint8_t qh[32];
    uint8_t qs[128];
};
struct svg_block_q6_k {
    uint8_t ql[128];
    uint8_t qh[64];
    int8_t scales[16];
    __half d;
};

// Elements and bytes of one block of a quantized type; false for the others.
__host__ __device__ __forceinline__ bool svg_qblock(int type, int *elems, int *bytes) {
    switch (type) {
        case SVG_TYPE_Q8_0: *elems = 32, *bytes = (int)sizeof(svg_block_q8_0); return true;
        case SVG_TYPE_Q4_0: *elems = 32, *bytes = (int)sizeof(svg_block_q4_0); return true;
        case SVG_TYPE_Q4_K: *elems = 256, *bytes = 144; return true;
        case SVG_TYPE_Q5_K: *elems = 256, *bytes = 176; return true;
        case SVG_TYPE_Q6_K: *elems = 256, *bytes = 210; return true;
        default: return false;
    }
}

// k-quants: sub-block s's 6-bit (scale, min) (ggml get_scale_min_k4)
__device__ __forceinline__ void svg_k_scale_min(int s, const uint8_t *q, int *sc, int *m) {
    if (s < 4) {
        *sc = q[s] & 63;
        *m = q[s + 4] & 63;
    } else {
        *sc = (q[s + 4] & 0xF) | ((q[s - 4] >> 6) << 4);
        *m = (q[s + 4] >> 4) | ((q[s] >> 6) << 4);
    }
}

// element j (0 .. block elements − 1) of a block
__device__ __forceinline__ float svg_dequant(const char *blk, int type, int j) {
    if (type == SVG_TYPE_Q8_0) {
        const svg_block_q8_0 *b = (const svg_block_q8_0 *)blk;
        return __half2float(b->d) * b->qs[j];
    }
    if (type == SVG_TYPE_Q4_0) {
        const svg_block_q4_0 *b = (const svg_block_q4_0 *)blk;
        const int q = j < 16 ? (b->qs[j] & 0xf) : (b->qs[j - 16] >> 4);
        return __half2float(b->d) * (q - 8);
    }
    if (type == SVG_TYPE_Q6_K) {  // 128-value halves, each four runs of 32 over shared bytes
        const svg_block_q6_k *b = (const svg_block_q6_k *)blk;
        const int n = j / 128, quad = (j % 128) / 32, l = j % 32;
        const int lo = (b->ql[n * 64 + l + 32 * (quad & 1)] >> (4 * (quad >> 1))) & 0xF;
        const int hi = (b->qh[n * 32 + l] >> (2 * quad)) & 3;
        return __half2float(b->d) * b->scales[n * 8 + l / 16 + 2 * quad] * ((lo | hi << 4) - 32);
    }
    // q4_K / q5_K: 64-value groups, the low nibbles the first 32, the high ones the next
    const int g = j / 64, half = (j % 64) / 32, l = j % 32;
    const uint8_t *scales, *qs;
    float d, dmin;
    int fifth = 0;
    if (type == SVG_TYPE_Q4_K) {
        const svg_block_q4_k *b = (const svg_block_q4_k *)blk;
        scales = b->scales, qs = b->qs, d = __half2float(b->d), dmin = __half2float(b->dmin);
    } else {
        const svg_block_q5_k *b = (const svg_block_q5_k *)blk;
        scales = b->scales, qs = b->qs, d = __half2float(b->d), dmin = __half2float(b->dmin);
        fifth = ((b->qh[l] >> (2 * g + half)) & 1) << 4;
    }
    int sc, m;
    svg_k_scale_min(2 * g + half, scales, &sc, &m);
    return d * sc * (((qs[32 * g + l] >> (4 * half)) & 0xF) + fifth) - dmin * m;
}

// element k of a row of blocks
__device__ __forceinline__ float svg_dequant_row(const char *row, int type, int64_t k) {
    int elems = 32, bytes = 0;
    svg_qblock(type, &elems, &bytes);
    return svg_dequant(row + (k / elems) * bytes, type, (int)(k % elems));
}

// ---- RoPE frequencies (cuda-embed.cu builds them; cuda-rows.cu and the
// general RoPE kernel read them)
// Rotated pair k (0 ≤ k < D/2) belongs to axis a with index j inside it and
// turns by pos[l, a] · inv_freq[k], inv_freq[k] = θ^(−2j/d_a) (rounded from
// double). Interleaved pairs are elements (o_a + 2j, o_a + 2j + 1), half-split
// pairs (o_a + j, o_a + j + d_a/2): i0/i1 keep both for the general kernel.
constexpr int SVG_ROPE_MAX_PAIRS = 128;  // head dim ≤ 256
struct svg_rope_pairs {
    int n;  // D/2
    float inv_freq[SVG_ROPE_MAX_PAIRS];
    uint8_t axis[SVG_ROPE_MAX_PAIRS];
    int16_t i0[SVG_ROPE_MAX_PAIRS], i1[SVG_ROPE_MAX_PAIRS];
};
// false (with the error set) when the head dim is over 256
bool svg_rope_pairs_of(const svg_tensor *rope, svg_rope_pairs *out);

// Angle in f32 and the accurate sincosf (no fast-math __sincosf: its error
// grows with |angle|, and angles reach ~100 rad for video positions). Against
// the CPU reference's double angle the error is about |angle|·2^−24 ≈ 5e-6.
__device__ __forceinline__ float2 svg_rope_cos_sin(float pos, float inv_freq) {
    float s, c;
    sincosf(pos * inv_freq, &s, &c);
    return make_float2(c, s);
}

// ---- row pass (cuda-rows.cu)
// One memory-bound pass over rows of N elements (N % 8 == 0) held in
// registers: optional norm statistics (layer / RMS, f32), affine w/b,
// adaLN modulation, optional interleaved RoPE, one write. NORM, ROPE and
// the fused NORM → ROPE pattern all run through it when the layout allows
// (16-byte aligned rows and heads); otherwise the general kernels run.
enum svg_row_norm { SVG_ROW_NORM_NONE = 0, SVG_ROW_NORM_LAYER, SVG_ROW_NORM_RMS };

// Byte offset of a per-row operand (modulation broadcast over x's outer
// dims) for row r: Σ ((r / div_i) % mod_i) · stride_i over its non-broadcast
// outer dims, 32-bit index math (rows < 2^31).
struct svg_row_map {
    int n;
    uint32_t div[SVG_MAX_DIMS], mod[SVG_MAX_DIMS];
    int64_t stride[SVG_MAX_DIMS];
};
// The map of an operand whose shape s is broadcast onto the rows of the
// output (svg_cuda_shape_bcast; the last dim is the row): its outer dims
// that are not broadcast. False when one of their strides is not a multiple
// of `align` bytes.
static inline bool svg_row_map_of(const svg_cuda_shape &s, int64_t align, svg_row_map *m) {
    m->n = 0;
    uint64_t div = 1;
    for (int d = s.n - 2; d >= 0; d--) {
        if (s.nb[d] != 0 && s.ne[d] != 1) {
            if (s.nb[d] % align) return false;
            m->div[m->n] = (uint32_t)div;
            m->mod[m->n] = (uint32_t)s.ne[d];
            m->stride[m->n] = s.nb[d];
            m->n++;
        }
        div *= (uint64_t)s.ne[d];
    }
    return true;
}
__device__ __forceinline__ int64_t svg_row_offset(const svg_row_map &m, uint32_t r) {
    int64_t o = 0;
    for (int i = 0; i < m.n; i++) o += (int64_t)((r / m.div[i]) % m.mod[i]) * m.stride[i];
    return o;
}

// Whether the bytes of a and b intersect (a tensor without memory meets
// nothing). The fusions use it: the planner places a fused pair's output
// after the first node ran, possibly over memory the pass still reads.
static inline bool svg_cuda_overlap(const svg_tensor *a, const svg_tensor *b) {
    if (!a || !b || !a->data || !b->data) return false;
    const char *a0 = (const char *)a->data, *b0 = (const char *)b->data;
    return a0 < b0 + svg_nbytes(b) && b0 < a0 + svg_nbytes(a);
}

struct svg_row_args {
    int64_t rows;
    int N;  // elements per row
    int type;  // x and y (same type)
    // row r of x starts at (r / x_rows_per_b) · x_b + (r % x_rows_per_b) · x_l;
    // with RoPE, head h of the row (D elements) at + h · x_h
    const char *x;
    uint32_t x_rows_per_b;
    int64_t x_b, x_l, x_h;
    char *y;  // rows contiguous: y + r · N
    // norm: y = (x − mean) · rstd · w + b, then · (1 + scale) + shift
    int norm;
    float eps;
    const char *w, *b, *scale, *shift;  // NULL: absent; w/b contiguous [N]
    int tw, tb, tsc, tsh;
    svg_row_map msc, msh;  // scale/shift row offsets; contiguous along the row
    // RoPE over heads of D elements: row r is token r / rows_per_token,
    // position row l = token % L
    bool rope;
    int D;
    uint32_t rows_per_token, L;
    const char *pos;
    int64_t ps0, ps1;
    svg_rope_pairs pairs;
};

// Fill the arguments for a node, or return false when the row pass does not
// apply (no error set: the caller runs the general kernel).
bool svg_row_args_norm(const svg_tensor *norm, svg_row_args *a);
bool svg_row_args_rope(const svg_tensor *rope, svg_row_args *a);
// NORM node → (views) → ROPE node as one pass writing rope's output. The
// caller checks the graph (the norm's result has no other consumer, no node
// runs in between); this checks the layouts (rope's input is a no-op
// reshape of the norm's result) and the memory the planner chose. False:
// run the two nodes separately.
bool svg_row_args_norm_rope(const svg_tensor *norm, const svg_tensor *rope, svg_row_args *a);
bool svg_row_pass(svg_cuda_ctx &c, const svg_row_args &a);
