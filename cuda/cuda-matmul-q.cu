// Tensor-core GEMM for block-quantized weights:
//
//     y[m, n] = sum_k a[m, k] · w[n, k]  (+ bias[n])        f32 accumulation
//
//   a    [M, K] bf16 or f16, rows at a stride of lda elements (lda·2 % 16 == 0);
//        the batch dims of a contiguous activation are flattened into M
//   w    [N, K] q8_0 or q4_0 in the GGUF layout, row after row; a row is K/32
//        blocks of 32 elements:
//          q8_0 {fp16 d; int8  qs[32]}  34 bytes   w[32i + j] = d · qs[j]
//          q4_0 {fp16 d; uint8 qs[16]}  18 bytes   w[32i + j]      = d · ((qs[j] & 15) - 8)
//                                                  w[32i + j + 16] = d · ((qs[j] >> 4) - 8)
//   y    [M, N] of a's type, contiguous
//
// The dequantized weight never exists in device memory. A block of NT threads
// owns a BM×BN tile of y and walks K in stages of BK = 64, two quant blocks
// per row of w per stage:
//
//   global a ──cp.async 16 B──▶ As[stage]  BM×64 bf16/f16 ─────────ldmatrix──▶ mma.sync
//   global w ──cp.async 16 B──▶ Wq[stage]  BN rows of raw block bytes            ▲   m16n8k16
//                                   └── dequantize (d·q, fp32 → bf16/f16) ──▶ Bs[2] BN×64
//
// Quant blocks are only 2-byte aligned (34 / 18 bytes), so a stage copies of
// each row the 16-byte-aligned chunks covering its two blocks (6 for q8_0, 4
// for q4_0); the blocks start at an even byte sh ∈ [0, 16) of the first chunk.
// The copy stops at the blocks' last byte (cp.async zero-fills the rest of the
// chunk), so nothing past w is read; rows past N and a missing second block
// (K % 64 == 32) are zeros, i.e. d = 0, and a's columns past K are zero too.
//
// Pipeline: a STAGES-deep cp.async ring for As/Wq and double-buffered Bs.
// Stage kt runs its four k16 steps from As[kt] and Bs[kt%2], with the
// fragments of step s+1 loaded (ldmatrix) before the MMAs of step s, and the
// dequant of stage kt+1 into Bs[(kt+1)%2] issued after the MMAs of steps 0
// and 1, so its integer/fp32 work overlaps the tensor cores. One
// __syncthreads per stage, before the MMAs of step 3: after it stage kt+1 is
// complete (a landed, w dequantized), stage kt+2 has landed, and nobody reads
// stage kt's buffers any more, so the loads of stage kt+STAGES go to its slot.
//
// Configurations (launch()): 256×128 tiles, 8 warps of 64×64, 4 stages
// (216 KB of shared memory, H100); 128×64, 4 warps of 64×32, 3 stages on
// devices with less shared memory.
//
// Shared tiles (As, Bs) are rows of 64 halfs = 128 bytes = eight 16-byte
// chunks; chunk c of row r is stored at chunk c ^ (r & 7), so the 8 row
// addresses of an ldmatrix phase hit 8 distinct bank groups. Raw rows in Wq
// get one chunk of padding for the same reason.
//
// Warps form a WM×WN grid, each owning (BM/WM)×(BN/WN) of the tile as m16n8
// fragments. mma.m16n8k16.row.col: the A fragment is rows of a (k contiguous),
// the B fragment columns of w^T = rows of w (k contiguous), so both load with
// plain (non-transposed) ldmatrix.x4.
//
// Dequantization: thread (r, b) converts block b of row r, 16 elements per
// call. Each byte q becomes an exact fp32 integer with the magic-number trick
// float_bits(0x4B000000 | u) = 2^23 + u for a byte u (u = q ^ 0x80 for the
// signed q8_0, u = nibble for q4_0), minus 2^23 + bias, then × d in fp32 and
// one rounding to bf16/f16 — the same value as rounding d·q.
//
// Tiles are ordered in groups of GROUP_M tile rows (tile row fastest within a
// group), so the concurrently running blocks share a few rows of a and a band
// of w in L2.
#include "cuda-common.cuh"

namespace {

constexpr int BK = 64;       // k per pipeline stage: two quant blocks per row of w
constexpr int GROUP_M = 8;   // tile rows per rasterization group

// ---- PTX wrappers (sm_80+)
// copies n_bytes (0..16) of a 16-byte chunk and zero-fills the rest
__device__ __forceinline__ void cp_async16(uint32_t dst, const void *src, int n_bytes) {
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(dst), "l"(src), "r"(n_bytes));
}
__device__ __forceinline__ void cp_async_commit() { asm volatile("cp.async.commit_group;\n" ::); }
template <int N>
__device__ __forceinline__ void cp_async_wait() { asm volatile("cp.async.wait_group %0;\n" ::"n"(N)); }

__device__ __forceinline__ void ldmatrix_x4(uint32_t (&r)[4], uint32_t addr) {
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0,%1,%2,%3}, [%4];\n"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
                 : "r"(addr));
}

template <typename T>
__device__ __forceinline__ void mma16816(float (&d)[4], const uint32_t (&a)[4], const uint32_t (&b)[2]);
template <>
__device__ __forceinline__ void mma16816<__nv_bfloat16>(float (&d)[4], const uint32_t (&a)[4], const uint32_t (&b)[2]) {
    asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};\n"
                 : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
}
template <>
__device__ __forceinline__ void mma16816<__half>(float (&d)[4], const uint32_t (&a)[4], const uint32_t (&b)[2]) {
    asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};\n"
                 : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
}

__device__ __forceinline__ uint32_t pack2(float x, float y, __nv_bfloat16 *) {
    const __nv_bfloat162 v = __floats2bfloat162_rn(x, y);
    return *(const uint32_t *)&v;
}
__device__ __forceinline__ uint32_t pack2(float x, float y, __half *) {
    const __half2 v = __floats2half2_rn(x, y);
    return *(const uint32_t *)&v;
}

// element offset of chunk c (8 halfs) of row r in a swizzled BK-wide tile
__device__ __forceinline__ int swz(int r, int c) { return r * BK + ((c ^ (r & 7)) << 3); }

// ---- quant formats. A stage copies, of each row of w, the 16-byte chunks
// covering its two blocks: `chunks` of them (the blocks start at an even byte
// sh ∈ [0, 16) of the first chunk).
template <int QT> struct qfmt;
template <> struct qfmt<SVG_TYPE_Q8_0> {
    static constexpr int bytes = 34, chunks = 6, bias = 128;
    // quants 16h..16h+15 of the block at byte o of the window, as bytes u = q + 128
    __device__ static void quants(const uint32_t *w, int o, int h, uint32_t (&u)[4]) {
        o += 2 + 16 * h;
        const int j = o >> 2;
        const uint32_t sel = (o & 3) ? 0x5432 : 0x3210;
#pragma unroll
        for (int i = 0; i < 4; i++) u[i] = __byte_perm(w[j + i], w[j + i + 1], sel) ^ 0x80808080u;
    }
};
template <> struct qfmt<SVG_TYPE_Q4_0> {
    static constexpr int bytes = 18, chunks = 4, bias = 8;
    // quants 16h..16h+15: the low (h = 0) or high (h = 1) nibbles of the 16 qs bytes
    __device__ static void quants(const uint32_t *w, int o, int h, uint32_t (&u)[4]) {
        o += 2;
        const int j = o >> 2;
        const uint32_t sel = (o & 3) ? 0x5432 : 0x3210;
#pragma unroll
        for (int i = 0; i < 4; i++) u[i] = (__byte_perm(w[j + i], w[j + i + 1], sel) >> (4 * h)) & 0x0f0f0f0fu;
    }
};

struct mmq_args {
    const char *a, *w, *bias;
    void *y;
    int tbias;
    int M, N, K;
    int64_t lda;    // elements
    int64_t w_row;  // bytes per row of w
    int tiles_m, tiles_n;
};

template <int QT, int BM, int BN, int WM, int WN, int STAGES>
struct mmq_cfg {
    static constexpr int NT = WM * WN * 32;
    static constexpr int TM = BM / WM, TN = BN / WN;  // warp tile
    static constexpr int MI = TM / 16, NJ = TN / 8;   // m16 / n8 fragments per warp
    static constexpr int QC = qfmt<QT>::chunks, WQ = 4 * (QC + 1);  // raw row: QC chunks + 1 of padding (banks), in words
    static constexpr size_t a_stage = (size_t)BM * BK * 2, q_stage = (size_t)BN * WQ * 4, b_tile = (size_t)BN * BK * 2;
    static constexpr size_t smem = STAGES * (a_stage + q_stage) + 2 * b_tile;
    static_assert(NJ % 2 == 0 && TM % 16 == 0, "warp tile");
    static_assert(NT % 8 == 0 && BM % (NT / 8) == 0, "a copy: 8 chunks of a row per 8 threads");
    static_assert(NT == 2 * BN && QC % 2 == 0, "w copy and dequant: two threads per row");
    static_assert(STAGES >= 3, "the loop waits for stage kt+2 while computing kt");
};

template <typename T, int QT, int BM, int BN, int WM, int WN, int STAGES>
__global__ void __launch_bounds__(WM *WN * 32, 1) mmq_kernel(const mmq_args p) {
    using C = mmq_cfg<QT, BM, BN, WM, WN, STAGES>;
    using Q = qfmt<QT>;
    extern __shared__ __align__(16) char smem[];
    T *Bs = (T *)(smem + STAGES * (C::a_stage + C::q_stage));  // [2][BN][BK] dequantized w
    const uint32_t *Wq = (const uint32_t *)(smem + STAGES * C::a_stage);
    const uint32_t As_s = (uint32_t)__cvta_generic_to_shared(smem);                   // [STAGES][BM][BK]
    const uint32_t Wq_s = As_s + STAGES * C::a_stage;                                  // [STAGES][BN][WQ] words
    const uint32_t Bs_s = (uint32_t)__cvta_generic_to_shared(Bs);

    // grouped rasterization
    const int per_group = GROUP_M * p.tiles_n, group = blockIdx.x / per_group;
    const int first_m = group * GROUP_M, gm = min(p.tiles_m - first_m, GROUP_M), in_group = blockIdx.x % per_group;
    const int m0 = (first_m + in_group % gm) * BM, n0 = (in_group / gm) * BN;

    const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
    const int wm = warp / WN, wn = warp % WN;
    const int KB = p.K / 32, KT = (KB + 1) / 2;  // quant blocks per row, stages

    // copy roles. a: chunk ac of rows ar + i·NT/8. w: row wr, chunks [wp·QC/2, (wp+1)·QC/2)
    const int ac = tid & 7, ar = tid >> 3;
    const T *a_src = (const T *)p.a + (int64_t)min(m0 + ar, p.M - 1) * p.lda + ac * 8;
    const int wr = tid >> 1, wp = tid & 1;
    const bool w_ok = n0 + wr < p.N;
    const int64_t w_off = w_ok ? (int64_t)(n0 + wr) * p.w_row : 0;  // row start in w, bytes

    auto load_stage = [&](int slot, int kt) {
#pragma unroll
        for (int i = 0; i < BM / (C::NT / 8); i++) {
            const int r = ar + i * (C::NT / 8);
            const bool ok = m0 + r < p.M && kt * BK + ac * 8 < p.K;
            const T *src = ok ? a_src + (int64_t)i * (C::NT / 8) * p.lda + kt * BK : a_src;
            cp_async16(As_s + (uint32_t)(slot * C::a_stage + swz(r, ac) * 2), src, ok ? 16 : 0);
        }
        // the stage's blocks of this row start at byte sh of the window; the copy
        // stops at their end (rows past N: nothing), zero-filling the rest
        const int64_t start = w_off + (int64_t)kt * 2 * Q::bytes;
        const int sh = (int)(start & 15), first = wp * (C::QC / 2);
        const int lim = w_ok ? sh + min(2, KB - 2 * kt) * Q::bytes - 16 * first : 0;
        const char *src = p.w + (start - sh) + 16 * first;
        const uint32_t dst = Wq_s + (uint32_t)(slot * C::q_stage + wr * C::WQ * 4 + 16 * first);
#pragma unroll
        for (int j = 0; j < C::QC / 2; j++) {
            const int nb = max(0, min(16, lim - 16 * j));
            cp_async16(dst + 16 * j, nb ? src + 16 * j : p.w, nb);
        }
    };

    // dequantize half h (16 elements) of block wp of row wr, stage kt in `slot` → Bs[buf]
    auto dequant = [&](int slot, int kt, int buf, int h) {
        const uint32_t *w = Wq + slot * (C::q_stage / 4) + wr * C::WQ;
        const int o = (int)((w_off + (int64_t)kt * 2 * Q::bytes) & 15) + wp * Q::bytes;  // block start in the window (even)
        const float d = __half2float(__ushort_as_half((unsigned short)(w[o >> 2] >> (8 * (o & 2)))));
        uint32_t u[4], out[8];
        Q::quants(w, o, h, u);
#pragma unroll
        for (int i = 0; i < 4; i++) {
            float f[4];
#pragma unroll
            for (int e = 0; e < 4; e++) f[e] = (__uint_as_float(__byte_perm(u[i], 0x4B000000u, 0x7650 | e)) - (8388608.f + Q::bias)) * d;
            out[2 * i] = pack2(f[0], f[1], (T *)nullptr);
            out[2 * i + 1] = pack2(f[2], f[3], (T *)nullptr);
        }
        T *dst = Bs + buf * (BN * BK);
        const int c = 4 * wp + 2 * h;
        *(uint4 *)(dst + swz(wr, c)) = make_uint4(out[0], out[1], out[2], out[3]);
        *(uint4 *)(dst + swz(wr, c + 1)) = make_uint4(out[4], out[5], out[6], out[7]);
    };

    // fragments of k16 step ks of a stage
    uint32_t af[2][C::MI][4], bf[2][C::NJ][2];
    auto load_frags = [&](int fb, int slot, int buf, int ks) {
#pragma unroll
        for (int i = 0; i < C::MI; i++) {
            const int r = wm * C::TM + i * 16 + (lane & 15);
            ldmatrix_x4(af[fb][i], As_s + (uint32_t)(slot * C::a_stage + swz(r, 2 * ks + (lane >> 4)) * 2));
        }
#pragma unroll
        for (int j = 0; j < C::NJ; j += 2) {
            const int r = wn * C::TN + j * 8 + (lane & 7) + ((lane >> 4) << 3);
            uint32_t t[4];
            ldmatrix_x4(t, Bs_s + (uint32_t)(buf * C::b_tile + swz(r, 2 * ks + ((lane >> 3) & 1)) * 2));
            bf[fb][j][0] = t[0];
            bf[fb][j][1] = t[1];
            bf[fb][j + 1][0] = t[2];
            bf[fb][j + 1][1] = t[3];
        }
    };

    float acc[C::MI][C::NJ][4];
#pragma unroll
    for (int i = 0; i < C::MI; i++)
#pragma unroll
        for (int j = 0; j < C::NJ; j++)
#pragma unroll
            for (int e = 0; e < 4; e++) acc[i][j][e] = 0.f;

    for (int s = 0; s < STAGES - 1; s++) {
        if (s < KT) load_stage(s, s);
        cp_async_commit();
    }
    cp_async_wait<STAGES - 2>();
    __syncthreads();
    dequant(0, 0, 0, 0);
    dequant(0, 0, 0, 1);
    cp_async_wait<STAGES - 3>();
    __syncthreads();
    load_frags(0, 0, 0, 0);

    for (int kt = 0; kt < KT; kt++) {
        if (kt + STAGES - 1 < KT) load_stage((kt + STAGES - 1) % STAGES, kt + STAGES - 1);
        cp_async_commit();
        const int slot = kt % STAGES, buf = kt & 1;
#pragma unroll
        for (int ks = 0; ks < BK / 16; ks++) {
            if (ks < BK / 16 - 1) {
                load_frags((ks + 1) & 1, slot, buf, ks + 1);
            } else {
                // stage kt+1 (a, dequantized w) is complete, stage kt+2 landed; nobody
                // reads stage kt's buffers after this barrier
                cp_async_wait<STAGES - 3>();
                __syncthreads();
                if (kt + 1 < KT) load_frags(0, (kt + 1) % STAGES, buf ^ 1, 0);
            }
#pragma unroll
            for (int i = 0; i < C::MI; i++)
#pragma unroll
                for (int j = 0; j < C::NJ; j++) mma16816<T>(acc[i][j], af[ks & 1][i], bf[ks & 1][j]);
            if (ks < 2 && kt + 1 < KT) dequant((kt + 1) % STAGES, kt + 1, buf ^ 1, ks);
        }
    }
    cp_async_wait<0>();

    // epilogue: fragment (i, j) holds rows g, g+8 and columns 2t, 2t+1
    T *y = (T *)p.y;
    const int g = lane >> 2, t2 = (lane & 3) * 2;
    const bool pairs = (p.N & 1) == 0;
#pragma unroll
    for (int j = 0; j < C::NJ; j++) {
        const int n = n0 + wn * C::TN + j * 8 + t2;
        if (n >= p.N) continue;
        float b0 = 0.f, b1 = 0.f;
        if (p.bias) {
            const int es = p.tbias == SVG_TYPE_F32 ? 4 : 2;
            b0 = svg_ld_any(p.bias + (int64_t)n * es, p.tbias);
            if (n + 1 < p.N) b1 = svg_ld_any(p.bias + (int64_t)(n + 1) * es, p.tbias);
        }
#pragma unroll
        for (int i = 0; i < C::MI; i++)
#pragma unroll
            for (int hh = 0; hh < 2; hh++) {
                const int m = m0 + wm * C::TM + i * 16 + g + hh * 8;
                if (m >= p.M) continue;
                T *dst = y + (int64_t)m * p.N + n;
                const float v0 = acc[i][j][2 * hh] + b0, v1 = acc[i][j][2 * hh + 1] + b1;
                if (pairs) {
                    *(uint32_t *)dst = pack2(v0, v1, (T *)nullptr);
                } else {
                    svg_st(dst, v0);
                    if (n + 1 < p.N) svg_st(dst + 1, v1);
                }
            }
    }
}

template <typename T, int QT, int BM, int BN, int WM, int WN, int STAGES>
bool run(svg_cuda_ctx &c, mmq_args p) {
    using C = mmq_cfg<QT, BM, BN, WM, WN, STAGES>;
    auto kernel = mmq_kernel<T, QT, BM, BN, WM, WN, STAGES>;
    if (C::smem > c.smem_optin) return svg_err(false, "CUDA mul_mat_q: needs %zu bytes of shared memory, device has %zu", C::smem, c.smem_optin);
    SVG_CUDA_CHECK(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)C::smem));
    p.tiles_m = (p.M + BM - 1) / BM;
    p.tiles_n = (p.N + BN - 1) / BN;
    kernel<<<(unsigned)(p.tiles_m * p.tiles_n), C::NT, C::smem, c.stream>>>(p);
    SVG_CUDA_LAUNCHED();
    return true;
}

// 256×128 tiles, 8 warps, 4 stages where the shared memory allows (H100:
// 216 KB of 227); elsewhere (A100 164 KB, sm_86/89 99 KB) 128×64, 4 warps, 3 stages.
template <typename T, int QT>
bool launch(svg_cuda_ctx &c, const mmq_args &p) {
    if (mmq_cfg<QT, 256, 128, 4, 2, 4>::smem <= c.smem_optin) return run<T, QT, 256, 128, 4, 2, 4>(c, p);
    return run<T, QT, 128, 64, 2, 2, 3>(c, p);
}

}  // namespace

// Fast path of MUL_MAT for a bf16/f16 activation times a q8_0/q4_0 weight;
// *handled = false (and nothing done) for anything else.
bool svg_cuda_mul_mat_q(svg_cuda_ctx &c, svg_tensor *dst, bool *handled) {
    *handled = false;
    const svg_tensor *a = dst->src[0], *w = dst->src[1], *bias = dst->src[2];
    const int na = a->n_dims, nw = w->n_dims;
    if ((a->type != SVG_TYPE_BF16 && a->type != SVG_TYPE_F16) || dst->type != a->type || !svg_is_contiguous(dst)) return true;
    if ((w->type != SVG_TYPE_Q8_0 && w->type != SVG_TYPE_Q4_0) || !svg_is_contiguous(w)) return true;
    for (int d = 0; d < nw - 2; d++)
        if (w->ne[d] != 1) return true;
    if (bias && (bias->type != SVG_TYPE_F32 && bias->type != SVG_TYPE_BF16 && bias->type != SVG_TYPE_F16)) return true;
    const int64_t K = a->ne[na - 1], N = w->ne[nw - 2];
    if (K % 32 != 0 || a->nb[na - 1] != 2 || (uintptr_t)a->data % 16 != 0 || (uintptr_t)w->data % 16 != 0) return true;
    // rows of a: every leading dim must continue one uniform row stride
    int64_t M = 1, lda = -1, expect = -1;
    for (int d = na - 2; d >= 0; d--) {
        if (a->ne[d] == 1) continue;
        if (expect >= 0 && (int64_t)a->nb[d] != expect) return true;
        if (lda < 0) lda = (int64_t)a->nb[d];
        M *= a->ne[d];
        expect = (int64_t)a->nb[d] * a->ne[d];
    }
    if (lda < 0) lda = K * 2;  // a single row
    if (lda % 16 != 0 || M > INT32_MAX || N > INT32_MAX || K > INT32_MAX) return true;
    *handled = true;
    if (M == 0 || N == 0) return true;

    mmq_args p{};
    p.a = (const char *)a->data;
    p.w = (const char *)w->data;
    p.bias = bias ? (const char *)bias->data : nullptr;
    p.tbias = bias ? bias->type : 0;
    p.y = dst->data;
    p.M = (int)M;
    p.N = (int)N;
    p.K = (int)K;
    p.lda = lda / 2;
    p.w_row = (int64_t)w->nb[nw - 2];
    const bool q8 = w->type == SVG_TYPE_Q8_0;
    if (a->type == SVG_TYPE_BF16) return q8 ? launch<__nv_bfloat16, SVG_TYPE_Q8_0>(c, p) : launch<__nv_bfloat16, SVG_TYPE_Q4_0>(c, p);
    return q8 ? launch<__half, SVG_TYPE_Q8_0>(c, p) : launch<__half, SVG_TYPE_Q4_0>(c, p);
}
