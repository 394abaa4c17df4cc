// Row pass: the memory-bound kernel behind NORM (layer / RMS, affine,
// adaLN modulation), ROPE (interleaved pairs) and the fused QK-norm → RoPE.
//
// A row is N contiguous-in-memory elements of one type (f32/f16/bf16), read
// once into registers as 8-element vectors (16 bytes, or 32 for f32), then
//   mean = Σx/N (layer norm only), rstd = 1/sqrt(Σ(x − mean)²/N + eps)  (f32)
//   v = (x − mean)·rstd·w + b;  v = v·(1 + scale_r) + shift_r
//   RoPE: every head of D elements turns its pairs (v[2k], v[2k+1]) by the
//   angle pos[l, axis(k)]·inv_freq[k] of the row's token l
// and written once. Without a norm, mean = 0 and rstd = 1 (RoPE alone).
//
// Threads: T threads own a row (a power of two ≤ 32 for rows of ≤ 256
// vectors: shuffles only, 128/T rows per block; else a whole block, T a
// multiple of 32 up to 512, reducing through shared memory). Thread t holds
// the vectors t, t + T, ..., at most CH of them, so the loads of a row are
// all in flight before the first dependent instruction. Blocks loop over row
// groups (grid = resident blocks), so the per-block RoPE table copy is paid
// once per block, not per row.
//
// RoPE angles: the D/2 (cos, sin) of a row's token are computed once per row
// into shared memory (f32 sincosf, see svg_rope_cos_sin) while the row's
// loads are in flight, and read by all of its heads: H·D/2 rotations cost
// D/2 sincosf. Per-head norms (rows of D) recompute them per head.
#include "cuda-common.cuh"

#include <algorithm>
#include <climits>
#include <type_traits>

namespace {

constexpr int kWarpRowThreads = 128;  // block size when T ≤ 32
// a row per block: at most 512 threads × 8 vectors (N ≤ 32768); the launch
// bound keeps every instantiation launchable at 512 threads (≤ 128 registers)
constexpr int kMaxRowThreads = 512;

// 8 consecutive elements: one 16-byte vector (16-bit types) or two (f32)
template <typename TD>
struct vec8 {
    uint4 u[sizeof(TD) / 2];
};

template <typename TD>
__device__ __forceinline__ vec8<TD> load8(const char *p) {
    vec8<TD> v;
#pragma unroll
    for (int i = 0; i < (int)(sizeof(TD) / 2); i++) v.u[i] = ((const uint4 *)p)[i];
    return v;
}

template <typename TD>
__device__ __forceinline__ void unpack8(const vec8<TD> &v, float (&f)[8]) {
    const TD *e = reinterpret_cast<const TD *>(&v);
#pragma unroll
    for (int i = 0; i < 8; i++) f[i] = svg_ld(e + i);
}

template <typename TD>
__device__ __forceinline__ void store8(char *p, const float (&f)[8]) {
    vec8<TD> v;
    if constexpr (std::is_same<TD, __nv_bfloat16>::value) {
        __nv_bfloat162 *e = reinterpret_cast<__nv_bfloat162 *>(&v);
#pragma unroll
        for (int i = 0; i < 4; i++) e[i] = __floats2bfloat162_rn(f[2 * i], f[2 * i + 1]);
    } else if constexpr (std::is_same<TD, __half>::value) {
        __half2 *e = reinterpret_cast<__half2 *>(&v);
#pragma unroll
        for (int i = 0; i < 4; i++) e[i] = __floats2half2_rn(f[2 * i], f[2 * i + 1]);
    } else {
        float *e = reinterpret_cast<float *>(&v);
#pragma unroll
        for (int i = 0; i < 8; i++) e[i] = f[i];
    }
#pragma unroll
    for (int i = 0; i < (int)(sizeof(TD) / 2); i++) ((uint4 *)p)[i] = v.u[i];
}

// Elements 8·ch .. 8·ch + 7 of a per-channel operand of run-time type. These
// rows (weights, one modulation row per batch) are shared by every row of x,
// so they come from L1/L2, not DRAM.
__device__ __forceinline__ void load8_any(const char *p, int type, int ch, float (&f)[8]) {
    if (type == SVG_TYPE_F32) unpack8<float>(load8<float>(p + (size_t)ch * 32), f);
    else if (type == SVG_TYPE_BF16) unpack8<__nv_bfloat16>(load8<__nv_bfloat16>(p + (size_t)ch * 16), f);
    else unpack8<__half>(load8<__half>(p + (size_t)ch * 16), f);
}


// Sum over the T = blockDim.x threads of a row. T ≤ 32: T-lane groups of one
// warp (xor offsets < T stay inside the group). T > 32: one row per block.
__device__ __forceinline__ float row_sum(float v, float *red) {
    const int T = blockDim.x;
    for (int o = (T < 32 ? T : 32) >> 1; o; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    if (T <= 32) return v;
    __syncthreads();  // red may still be read by the previous sum
    if ((threadIdx.x & 31) == 0) red[threadIdx.x >> 5] = v;
    __syncthreads();
    float s = 0.f;
    for (int w = 0; w < (T >> 5); w++) s += red[w];
    return s;
}

__device__ __forceinline__ void row_sync() {
    if (blockDim.x <= 32) __syncwarp();
    else __syncthreads();
}

template <typename TD, int CH>
__global__ void __launch_bounds__(kMaxRowThreads, 1) row_pass_kernel(const svg_row_args a) {
    extern __shared__ float4 s_dyn[];  // [blockDim.y][D/2] (cos, sin) per row
    __shared__ float s_red[32];
    __shared__ float s_inv[SVG_ROPE_MAX_PAIRS];
    __shared__ uint8_t s_axis[SVG_ROPE_MAX_PAIRS];
    constexpr int64_t VB = 8 * sizeof(TD);  // bytes per vector
    const int T = blockDim.x, tid = threadIdx.x;
    const int nvec = a.N >> 3;
    const int half = a.rope ? a.D >> 1 : 0, P = a.D >> 3;
    // the per-pair table once per block (kernel parameters indexed per
    // thread serialize in the constant cache; shared memory does not)
    for (int k = threadIdx.y * T + tid; k < half; k += T * blockDim.y) {
        s_inv[k] = a.pairs.inv_freq[k];
        s_axis[k] = a.pairs.axis[k];
    }
    __syncthreads();
    float2 *cs = reinterpret_cast<float2 *>(s_dyn) + threadIdx.y * half;
    const float inv_n = 1.f / (float)a.N;
    // vector ch is vector q of head h (P ≤ 32 vectors per head, ch < 2^13):
    // h = ch / P as (ch · ⌈2^18/P⌉) >> 18, exact since ch/2^18 < 1/32 ≤ 1/P
    const uint32_t p_magic = a.rope ? ((1u << 18) + P - 1) / P : 0;

    // r0 is uniform over the block: every thread reaches every sync/shuffle
    for (int64_t r0 = (int64_t)blockIdx.x * blockDim.y; r0 < a.rows; r0 += (int64_t)gridDim.x * blockDim.y) {
        const bool live = r0 + threadIdx.y < a.rows;
        const uint32_t r = (uint32_t)(r0 + threadIdx.y);
        vec8<TD> v[CH];
        if (live) {
            const char *xr = a.x + (int64_t)(r / a.x_rows_per_b) * a.x_b + (int64_t)(r % a.x_rows_per_b) * a.x_l;
#pragma unroll
            for (int i = 0; i < CH; i++) {
                const int ch = tid + i * T;
                if (ch < nvec) {
                    const int h = (int)(((uint32_t)ch * p_magic) >> 18);
                    v[i] = load8<TD>(xr + h * a.x_h + (ch - h * P) * VB);
                }
            }
        }
        if (a.rope) {
            row_sync();  // the previous row's rotations are done reading cs
            if (live) {
                const uint32_t l = (r / a.rows_per_token) % a.L;
                const char *pp = a.pos + (int64_t)l * a.ps0;
                for (int k = tid; k < half; k += T) cs[k] = svg_rope_cos_sin(*(const float *)(pp + s_axis[k] * a.ps1), s_inv[k]);
            }
        }
        float mean = 0.f, rstd = 1.f;
        if (a.norm != SVG_ROW_NORM_NONE) {
            float f[8];
            if (a.norm == SVG_ROW_NORM_LAYER) {
                float s = 0.f;
#pragma unroll
                for (int i = 0; i < CH; i++)
                    if (live && tid + i * T < nvec) {
                        unpack8(v[i], f);
#pragma unroll
                        for (int e = 0; e < 8; e++) s += f[e];
                    }
                mean = row_sum(s, s_red) * inv_n;
            }
            // second pass over registers: no cancellation for large means
            float s2 = 0.f;
#pragma unroll
            for (int i = 0; i < CH; i++)
                if (live && tid + i * T < nvec) {
                    unpack8(v[i], f);
#pragma unroll
                    for (int e = 0; e < 8; e++) s2 += (f[e] - mean) * (f[e] - mean);
                }
            rstd = rsqrtf(row_sum(s2, s_red) * inv_n + a.eps);
        }
        if (a.rope) row_sync();  // cs complete
        if (!live) continue;

        const char *sc = a.scale ? a.scale + svg_row_offset(a.msc, r) : nullptr;
        const char *sh = a.shift ? a.shift + svg_row_offset(a.msh, r) : nullptr;
        char *yr = a.y + (int64_t)r * a.N * (int64_t)sizeof(TD);
#pragma unroll
        for (int i = 0; i < CH; i++) {
            const int ch = tid + i * T;
            if (ch >= nvec) break;
            float f[8], p[8];
            unpack8(v[i], f);
#pragma unroll
            for (int e = 0; e < 8; e++) f[e] = (f[e] - mean) * rstd;
            if (a.w) {
                load8_any(a.w, a.tw, ch, p);
#pragma unroll
                for (int e = 0; e < 8; e++) f[e] *= p[e];
            }
            if (a.b) {
                load8_any(a.b, a.tb, ch, p);
#pragma unroll
                for (int e = 0; e < 8; e++) f[e] += p[e];
            }
            if (sc) {
                load8_any(sc, a.tsc, ch, p);
#pragma unroll
                for (int e = 0; e < 8; e++) f[e] *= 1.0f + p[e];
            }
            if (sh) {
                load8_any(sh, a.tsh, ch, p);
#pragma unroll
                for (int e = 0; e < 8; e++) f[e] += p[e];
            }
            if (a.rope) {
                // vector q of its head holds pairs 4q .. 4q + 3: 32 bytes of cs
                const int q = ch - (int)(((uint32_t)ch * p_magic) >> 18) * P;
                const float4 c01 = reinterpret_cast<const float4 *>(cs)[2 * q];
                const float4 c23 = reinterpret_cast<const float4 *>(cs)[2 * q + 1];
                const float cr[4] = {c01.x, c01.z, c23.x, c23.z}, sr[4] = {c01.y, c01.w, c23.y, c23.w};
#pragma unroll
                for (int j = 0; j < 4; j++) {
                    const float x0 = f[2 * j], x1 = f[2 * j + 1];
                    f[2 * j] = x0 * cr[j] - x1 * sr[j];
                    f[2 * j + 1] = x0 * sr[j] + x1 * cr[j];
                }
            }
            store8<TD>(yr + (int64_t)ch * VB, f);
        }
    }
}

template <typename TD>
bool launch_rows(svg_cuda_ctx &c, const svg_row_args &a) {
    const int nvec = a.N / 8;
    int T, RB, CH;
    if (nvec <= 256) {  // a row per warp or per T-lane group of one
        CH = 1;
        while (CH * 32 < nvec) CH *= 2;
        T = 1;
        while (T * CH < nvec) T *= 2;
        RB = kWarpRowThreads / T;
    } else {  // a row per block
        CH = nvec <= 4 * kMaxRowThreads ? 4 : 8;
        T = ((nvec + CH - 1) / CH + 31) / 32 * 32;
        RB = 1;
    }
    void (*k)(svg_row_args) = CH == 1   ? row_pass_kernel<TD, 1>
                              : CH == 2 ? row_pass_kernel<TD, 2>
                              : CH == 4 ? row_pass_kernel<TD, 4>
                                        : row_pass_kernel<TD, 8>;
    const size_t smem = a.rope ? (size_t)RB * (a.D / 2) * sizeof(float2) : 0;
    int per_sm = 0;
    SVG_CUDA_CHECK(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm, k, T * RB, smem));
    const int64_t groups = (a.rows + RB - 1) / RB;
    const int64_t grid = std::max<int64_t>(1, std::min<int64_t>(groups, (int64_t)std::max(per_sm, 1) * c.n_sm));
    k<<<(unsigned)grid, dim3(T, RB), smem, c.stream>>>(a);
    SVG_CUDA_LAUNCHED();
    return true;
}

bool act_type(int t) { return t == SVG_TYPE_F32 || t == SVG_TYPE_F16 || t == SVG_TYPE_BF16; }
bool aligned16(const void *p) { return ((uintptr_t)p & 15) == 0; }
int64_t elem_size(int t) { return t == SVG_TYPE_F32 ? 4 : 2; }

// Rows the kernel can hold: N % 8 == 0, at most 8 vectors × kMaxRowThreads.
bool row_shape_ok(int64_t rows, int64_t N) { return N > 0 && N % 8 == 0 && N / 8 <= 8 * kMaxRowThreads && rows <= INT_MAX; }

// A per-channel or per-row operand: contiguous along the row, 16-byte aligned
// vectors everywhere.
bool operand_ok(const svg_tensor *p) { return act_type(p->type) && aligned16(p->data); }

bool row_map_of(const svg_tensor *p, const svg_tensor *dst, svg_row_map *m) {
    const svg_cuda_shape s = svg_cuda_shape_bcast(p, dst);
    const int n = s.n;
    if (!operand_ok(p) || s.nb[n - 1] != elem_size(p->type)) return false;  // broadcast along the row: general path
    return svg_row_map_of(s, 16, m);
}

// RoPE fields of the arguments for rope node `rope` whose input x is [B, L, H, D].
bool rope_fields(const svg_tensor *rope, uint32_t rows_per_token, svg_row_args *a) {
    const svg_tensor *x = rope->src[0], *pos = rope->src[1];
    if (rope->op_params[1] != SVG_ROPE_INTERLEAVED || x->ne[3] % 8 || x->ne[3] > 2 * SVG_ROPE_MAX_PAIRS || x->ne[1] < 1) return false;
    a->rope = true;
    a->D = (int)x->ne[3];
    a->rows_per_token = rows_per_token;
    a->L = (uint32_t)x->ne[1];
    a->pos = (const char *)pos->data;
    a->ps0 = (int64_t)pos->nb[0];
    a->ps1 = (int64_t)pos->nb[1];
    return svg_rope_pairs_of(rope, &a->pairs);
}

}  // namespace

bool svg_row_args_norm(const svg_tensor *dst, svg_row_args *a) {
    const svg_tensor *x = dst->src[0], *w = dst->src[1], *b = dst->src[2], *sc = dst->src[3], *sh = dst->src[4];
    const int dim0 = dst->op_params[1], nd = dst->op_params[2];
    int64_t outer = 1, N = 1;
    for (int i = 0; i < x->n_dims; i++) {
        if (i < dim0) outer *= x->ne[i];
        else N *= x->ne[i];
    }
    if (dim0 + nd != x->n_dims || !act_type(dst->type) || x->type != dst->type || !row_shape_ok(outer, N)) return false;
    if (!aligned16(x->data) || !aligned16(dst->data)) return false;
    *a = svg_row_args{};
    a->rows = outer;
    a->N = (int)N;
    a->type = dst->type;
    a->x = (const char *)x->data;
    a->x_rows_per_b = (uint32_t)std::max<int64_t>(outer, 1);
    a->x_l = N * elem_size(x->type);
    a->y = (char *)dst->data;
    a->norm = dst->op_params[0] == SVG_NORM_RMS ? SVG_ROW_NORM_RMS : SVG_ROW_NORM_LAYER;
    a->eps = svg_param_f32(dst, 3);
    if (w) {
        if (!operand_ok(w)) return false;
        a->w = (const char *)w->data;
        a->tw = w->type;
    }
    if (b) {
        if (!operand_ok(b)) return false;
        a->b = (const char *)b->data;
        a->tb = b->type;
    }
    // modulation per row: only for a norm over the last dim (then a row of x
    // is a row of the broadcast scale/shift)
    if ((sc || sh) && nd != 1) return false;
    if (sc) {
        if (!row_map_of(sc, dst, &a->msc)) return false;
        a->scale = (const char *)sc->data;
        a->tsc = sc->type;
    }
    if (sh) {
        if (!row_map_of(sh, dst, &a->msh)) return false;
        a->shift = (const char *)sh->data;
        a->tsh = sh->type;
    }
    return true;
}

// Rows are tokens (b, l): H heads of D elements, each head contiguous and
// 16-byte aligned, heads at any 16-byte stride (permuted views included).
bool svg_row_args_rope(const svg_tensor *dst, svg_row_args *a) {
    const svg_tensor *x = dst->src[0];
    const int64_t B = x->ne[0], L = x->ne[1], H = x->ne[2], D = x->ne[3];
    const int64_t es = elem_size(x->type);
    if (!act_type(dst->type) || x->type != dst->type || !row_shape_ok(B * L, H * D) || L > UINT32_MAX) return false;
    if ((int64_t)x->nb[3] != es || x->nb[2] % 16 || x->nb[1] % 16 || x->nb[0] % 16 || !aligned16(x->data) || !aligned16(dst->data)) return false;
    *a = svg_row_args{};
    a->rows = B * L;
    a->N = (int)(H * D);
    a->type = dst->type;
    a->x = (const char *)x->data;
    a->x_rows_per_b = (uint32_t)L;
    a->x_b = (int64_t)x->nb[0];
    a->x_l = (int64_t)x->nb[1];
    a->x_h = (int64_t)x->nb[2];
    a->y = (char *)dst->data;
    a->norm = SVG_ROW_NORM_NONE;
    return rope_fields(dst, 1, a);
}

// The norm's rows of N = (normalized dims) elements become RoPE rows: N is
// the whole token (H·D, Wan's norm across heads) or a whole number of heads
// (N = D: per-head norm), so every row lies inside one token.
bool svg_row_args_norm_rope(const svg_tensor *norm, const svg_tensor *rope, svg_row_args *a) {
    const svg_tensor *rx = rope->src[0], *x = norm->src[0];
    if (!svg_row_args_norm(norm, a)) return false;
    // rope's input must be the norm's result reinterpreted in place: a
    // reshape (a no-op view: same bytes, same order)
    if (svg_view_root(const_cast<svg_tensor *>(rx)) != norm || rx->data != norm->data || !svg_is_contiguous(rx) ||
        svg_nelements(rx) != svg_nelements(norm) || rope->type != norm->type || !aligned16(rope->data))
        return false;
    const int64_t H = rx->ne[2], D = rx->ne[3];
    if (D <= 0 || a->N % D || (H * D) % a->N) return false;
    // rope's output may sit on memory the norm read (the planner frees the
    // norm's inputs after the norm and places rope's output later). On x with
    // the same start it is safe: each thread reads its vector before writing
    // the same vector back. Any other overlap (x shifted, the weights) would
    // let one row's writes clobber another row's unread input.
    if (x->data != rope->data && svg_cuda_overlap(x, rope)) return false;
    for (int i = 1; i < SVG_MAX_SRC; i++)
        if (svg_cuda_overlap(norm->src[i], rope)) return false;
    if (svg_cuda_overlap(rope->src[1], rope)) return false;
    a->y = (char *)rope->data;
    a->x_h = D * elem_size(a->type);  // heads of a norm row are dense
    return rope_fields(rope, (uint32_t)(H * D / a->N), a);
}

bool svg_row_pass(svg_cuda_ctx &c, const svg_row_args &a) {
    if (a.rows == 0) return true;
    switch (a.type) {
        case SVG_TYPE_F16: return launch_rows<__half>(c, a);
        case SVG_TYPE_BF16: return launch_rows<__nv_bfloat16>(c, a);
        default: return launch_rows<float>(c, a);
    }
}
