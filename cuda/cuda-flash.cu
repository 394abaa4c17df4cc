// FLASH ATTENTION forward on tensor cores (mma.sync, sm_80 and later): the
// fast path of SVG_OP_ATTENTION for f16/bf16 q/k/v, head dim 64 or 128, no
// bias. Everything else stays on attention_rows_kernel (cuda-attention.cu).
//
// Math (FlashAttention-2). One block owns BM query rows of one (b, h); with
// c = scale·log2(e) and, per row, running max m (raw dot-product units, −∞ at
// start), running sum l and output accumulator O (f32), for each key tile of
// BN keys:
//     S  = Q·K_tileᵀ                        raw dot products, f32
//     S  = −∞ where the key is masked       (j ≥ Lk, causal j > i + Lk − Lq,
//                                            key_mask[b, j] == 0)
//     m' = max(m, rowmax S),  μ = (m' == −∞ ? 0 : m')
//     P  = exp2(S·c − μ·c)                  one FFMA + one EX2 per score
//     α  = exp2((m − μ)·c)                  0 while m is still −∞
//     l  = α·l + rowsum P,  O = α·O + P·V_tile,  m = m'
// (the α scaling is skipped when no row max of the warp grew: α = 1 exactly)
// and finally O / l, or zeros where l == 0 (no visible key). μ keeps rows
// that have seen only masked keys at P = 0 instead of NaN. Since max is taken
// on raw scores, the scale must be positive (the host checks).
//
// Threads. 4 warps; warp w owns rows [w·BM/4, (w+1)·BM/4) as MT = BM/64 m16
// tiles. With the mma.sync fragments of cuda-mma.cuh, the C fragments of S
// n-tiles 2kk and 2kk+1, packed to 16 bits, are the A fragment of P for
// k-step kk of P·V: no data movement between the GEMMs.
// Each thread holds rows g and g+8 of each m-tile: row max / row sum need
// only a shuffle across the 4 threads of a quad.
// Registers: O = MT·D/2 f32, S = MT·BN/2 f32, and for D = 64 the Q fragments
// (MT·D/4 words, loaded once); for D = 128 Q is re-read from shared memory.
//
// Shared memory (dynamic, bytes):
//     Q [BM][D] 16-bit | K [2][BN][D] | V [2][BN][D] | key mask [2][BN] u32
// A row is D/8 16-byte chunks; chunk c of row r is stored at c ^ (r & 7)
// (XOR swizzle), so the 8 rows read by each 8×8 ldmatrix, and the 16-byte
// cp.async writes of a warp, fall in 8 distinct 16-byte bank groups.
// Q and K are read with ldmatrix (K rows are already the "col" B operand),
// V with ldmatrix.trans.
//
// Pipeline: two stages, one barrier per tile. Iteration n waits for tile n,
// syncs (so every warp is also done with tile n−1), then has cp.async (16
// bytes a thread, zero-filled past Lk so the dropped keys' V rows are 0, never
// garbage) fill stage (n+1)&1 with tile n+1 while it computes from stage n&1.
// Causal blocks stop after the tile with their last visible key and are
// launched last-row-block first (the longest first).
#include "cuda-mma.cuh"

#include <cmath>

namespace {

constexpr int FLASH_WARPS = 4, FLASH_THREADS = 32 * FLASH_WARPS;

struct flash_args {
    const char *q, *k, *v, *mask;
    const int *mask_keep;  // with mask: per batch, keys below it are all kept (svg_cuda_mask_keep)
    void *o;
    int64_t qs[3], ks[3], vs[3];  // byte strides of batch, head, token
    int64_t ms[2];                // key mask byte strides (batch, key)
    uint32_t mbits;               // nonzero test: f32 ignores the sign bit
    int H, group, Lq, Lk;         // group = H / Hkv
    float sl;                     // scale·log2(e)
    bool causal;
};

template <int D, int BM, int BN>
constexpr size_t flash_smem_bytes() {
    return (size_t)(BM + 4 * BN) * D * 2 + 2 * BN * 4;
}

template <typename T, int D, int BM, int BN>
__global__ void __launch_bounds__(FLASH_THREADS) flash_fwd_kernel(const flash_args a) {
    constexpr int MT = BM / (16 * FLASH_WARPS);  // m16 tiles per warp
    constexpr int NT = BN / 8;                   // n8 tiles of S
    constexpr int DT = D / 8;                    // n8 tiles of O
    constexpr int CH = D / 8;                    // 16-byte chunks per row
    constexpr int ROW = D * 2;                   // bytes per smem row
    constexpr int TILE = BN * ROW;               // bytes per K or V stage
    constexpr bool QREG = D <= 64;               // Q fragments live in registers
    static_assert(MT >= 1 && BM % (16 * FLASH_WARPS) == 0 && BN % 16 == 0 && BN <= FLASH_THREADS, "tile shape");
    static_assert(FLASH_THREADS % CH == 0 && (BN * CH) % FLASH_THREADS == 0, "copy split");

    extern __shared__ __align__(128) char smem[];
    const uint32_t sQ = (uint32_t)__cvta_generic_to_shared(smem);
    const uint32_t sK = sQ + BM * ROW, sV = sK + 2 * TILE, sM = sV + 2 * TILE;
    const uint32_t *mask_s = reinterpret_cast<const uint32_t *>(smem + (BM + 4 * BN) * ROW);

    const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
    const int m0 = (a.causal ? gridDim.x - 1 - blockIdx.x : blockIdx.x) * BM;
    const int h = blockIdx.y, b = blockIdx.z;
    const int off = a.Lk - a.Lq;  // causal: row i sees keys j <= i + off
    const int kend = a.causal ? min(a.Lk, m0 + BM + off) : a.Lk;
    const int ntiles = kend > 0 ? (kend + BN - 1) / BN : 0;

    T *out = static_cast<T *>(a.o) + (((int64_t)b * a.Lq + m0) * a.H + h) * D;
    const int r_lo = warp * (BM / FLASH_WARPS) + (lane >> 2);  // row of c0/c1 in m-tile 0
    if (ntiles == 0) {  // no visible key for any row of this block
#pragma unroll
        for (int mt = 0; mt < MT; mt++)
#pragma unroll
            for (int hh = 0; hh < 2; hh++) {
                const int r = r_lo + mt * 16 + hh * 8;
                if (m0 + r >= a.Lq) continue;
#pragma unroll
                for (int dt = 0; dt < DT; dt++)
                    *reinterpret_cast<uint32_t *>(out + (int64_t)r * a.H * D + dt * 8 + 2 * (lane & 3)) = 0u;
            }
        return;
    }

    const char *qg = a.q + b * a.qs[0] + h * a.qs[1];
    const char *kg = a.k + b * a.ks[0] + (h / a.group) * a.ks[1];
    const char *vg = a.v + b * a.vs[0] + (h / a.group) * a.vs[1];
    const char *mg = a.mask ? a.mask + b * a.ms[0] : nullptr;
    const int mask_keep = mg ? a.mask_keep[b] : a.Lk;

    // Copy split: thread tid moves chunk tid % CH of rows tid / CH + i·(THREADS / CH).
    const int cr = tid / CH, cc = tid % CH;
    const uint32_t c_dst = cr * ROW + ((cc ^ (cr & 7)) << 4);  // (THREADS / CH) is a multiple of 8
    constexpr int CSTEP = FLASH_THREADS / CH;

    // Q tile → smem (zero rows past Lq)
#pragma unroll
    for (int i = 0; i < BM / CSTEP; i++) {
        const int r = m0 + cr + i * CSTEP;
        const bool ok = r < a.Lq;
        cp_async16(sQ + c_dst + i * CSTEP * ROW, qg + (ok ? r * a.qs[2] + cc * 16 : 0), ok);
    }
    // per-thread source of its first chunk; a tile starts j0 rows further
    const char *kt = kg + cr * a.ks[2] + cc * 16, *vt = vg + cr * a.vs[2] + cc * 16;
    const int64_t kstep = CSTEP * a.ks[2], vstep = CSTEP * a.vs[2];
    auto load_kv = [&](int n, int st) {
        const int j0 = n * BN;
        const char *kp = kt + j0 * a.ks[2], *vp = vt + j0 * a.vs[2];
        const uint32_t d = st * TILE + c_dst;
#pragma unroll
        for (int i = 0; i < BN / CSTEP; i++) {
            const bool ok = j0 + cr + i * CSTEP < a.Lk;
            cp_async16(sK + d + i * CSTEP * ROW, ok ? kp : kg, ok);
            cp_async16(sV + d + i * CSTEP * ROW, ok ? vp : vg, ok);
            kp += kstep;
            vp += vstep;
        }
        if (mg && tid < BN) {  // raw mask words; zero (masked) past Lk
            const int j = j0 + tid;
            cp_async4(sM + (st * BN + tid) * 4, mg + (j < a.Lk ? j * a.ms[1] : 0), j < a.Lk);
        }
    };
    load_kv(0, 0);
    cp_async_commit();

    // ldmatrix lane addresses. Q and V: lane l reads row l%16, chunk +l/16;
    // K: row l%8 + 8·(l/16), chunk +(l/8)%2. With the swizzle, chunk 2s + δ of
    // row r sits at (2s) ^ (δ ^ (r & 7)): x below is δ ^ (r & 7).
    const int xq = (lane >> 4) ^ (lane & 7), xk = ((lane >> 3) & 1) ^ (lane & 7);
    const uint32_t q_lane = sQ + (warp * (BM / FLASH_WARPS) + (lane & 15)) * ROW;
    const uint32_t k_lane = sK + ((lane & 7) + 8 * (lane >> 4)) * ROW;
    const uint32_t v_lane = sV + (lane & 15) * ROW;

    float o[MT][DT][4];
    float m[MT][2], l[MT][2];
#pragma unroll
    for (int mt = 0; mt < MT; mt++) {
#pragma unroll
        for (int dt = 0; dt < DT; dt++)
#pragma unroll
            for (int e = 0; e < 4; e++) o[mt][dt][e] = 0.f;
#pragma unroll
        for (int hh = 0; hh < 2; hh++) {
            m[mt][hh] = -INFINITY;
            l[mt][hh] = 0.f;
        }
    }
    uint32_t qf[QREG ? MT : 1][QREG ? D / 16 : 1][4];

    for (int n = 0; n < ntiles; n++) {
        const int st = n & 1, j0 = n * BN;
        cp_async_wait_0();  // tile n (and Q) landed for this thread ...
        __syncthreads();    // ... for all threads, and all are done with tile n − 1
        if (n + 1 < ntiles) {
            load_kv(n + 1, st ^ 1);  // into the stage tile n − 1 used
            cp_async_commit();
        }

        if constexpr (QREG) {
            if (n == 0) {
#pragma unroll
                for (int mt = 0; mt < MT; mt++)
#pragma unroll
                    for (int ks = 0; ks < D / 16; ks++) ldsm_x4(qf[mt][ks], q_lane + mt * 16 * ROW + (((2 * ks) ^ xq) << 4));
            }
        }

        // S = Q·Kᵀ
        float s[MT][NT][4];
#pragma unroll
        for (int mt = 0; mt < MT; mt++)
#pragma unroll
            for (int nt = 0; nt < NT; nt++)
#pragma unroll
                for (int e = 0; e < 4; e++) s[mt][nt][e] = 0.f;
#pragma unroll
        for (int ks = 0; ks < D / 16; ks++) {
            uint32_t qa[MT][4];
#pragma unroll
            for (int mt = 0; mt < MT; mt++) {
                if constexpr (QREG) {
#pragma unroll
                    for (int e = 0; e < 4; e++) qa[mt][e] = qf[mt][ks][e];
                } else {
                    ldsm_x4(qa[mt], q_lane + mt * 16 * ROW + (((2 * ks) ^ xq) << 4));
                }
            }
#pragma unroll
            for (int p = 0; p < NT / 2; p++) {
                uint32_t kb[4];
                ldsm_x4(kb, k_lane + st * TILE + p * 16 * ROW + (((2 * ks) ^ xk) << 4));
#pragma unroll
                for (int mt = 0; mt < MT; mt++) {
                    mma16816<T>(s[mt][2 * p], qa[mt], kb[0], kb[1]);
                    mma16816<T>(s[mt][2 * p + 1], qa[mt], kb[2], kb[3]);
                }
            }
        }

        // Masks: only on tiles past Lk (or past the keys the key mask keeps
        // from the start), or on the causal diagonal.
        if (j0 + BN > mask_keep || j0 + BN > a.Lk || (a.causal && j0 + BN - 1 > m0 + off)) {
#pragma unroll
            for (int mt = 0; mt < MT; mt++)
#pragma unroll
                for (int hh = 0; hh < 2; hh++) {
                    const int i = m0 + r_lo + mt * 16 + hh * 8;
                    const int jlim = a.causal ? min(a.Lk, i + off + 1) : a.Lk;  // keys < jlim are visible
#pragma unroll
                    for (int nt = 0; nt < NT; nt++)
#pragma unroll
                        for (int e = 0; e < 2; e++) {
                            const int jl = nt * 8 + 2 * (lane & 3) + e;
                            bool ok = j0 + jl < jlim;
                            if (mg) ok = ok && (mask_s[st * BN + jl] & a.mbits) != 0;
                            if (!ok) s[mt][nt][2 * hh + e] = -INFINITY;
                        }
                }
        }

        // Online softmax; P overwrites S. O and l are rescaled only when a
        // row max of the warp grew (α = 1 exactly otherwise).
        float mnew[MT][2];
        bool grew = false;
#pragma unroll
        for (int mt = 0; mt < MT; mt++)
#pragma unroll
            for (int hh = 0; hh < 2; hh++) {
                float mx = m[mt][hh];
#pragma unroll
                for (int nt = 0; nt < NT; nt++) mx = fmaxf(mx, fmaxf(s[mt][nt][2 * hh], s[mt][nt][2 * hh + 1]));
                mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 1));
                mnew[mt][hh] = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 2));
                grew |= mnew[mt][hh] > m[mt][hh];
            }
        if (__any_sync(0xffffffffu, grew)) {
#pragma unroll
            for (int mt = 0; mt < MT; mt++)
#pragma unroll
                for (int hh = 0; hh < 2; hh++) {
                    const float mu = mnew[mt][hh] == -INFINITY ? 0.f : mnew[mt][hh] * a.sl;
                    const float alpha = ex2(m[mt][hh] * a.sl - mu);
                    l[mt][hh] *= alpha;
#pragma unroll
                    for (int dt = 0; dt < DT; dt++) {
                        o[mt][dt][2 * hh] *= alpha;
                        o[mt][dt][2 * hh + 1] *= alpha;
                    }
                }
        }
#pragma unroll
        for (int mt = 0; mt < MT; mt++)
#pragma unroll
            for (int hh = 0; hh < 2; hh++) {
                m[mt][hh] = mnew[mt][hh];
                const float mu = mnew[mt][hh] == -INFINITY ? 0.f : mnew[mt][hh] * a.sl;
                float sum = 0.f;
#pragma unroll
                for (int nt = 0; nt < NT; nt++)
#pragma unroll
                    for (int e = 0; e < 2; e++) {
                        const float p = ex2(fmaf(s[mt][nt][2 * hh + e], a.sl, -mu));
                        s[mt][nt][2 * hh + e] = p;
                        sum += p;
                    }
                l[mt][hh] += sum;
            }

        // O += P·V
#pragma unroll
        for (int kk = 0; kk < BN / 16; kk++) {
            uint32_t pa[MT][4];
#pragma unroll
            for (int mt = 0; mt < MT; mt++) {
                pa[mt][0] = pack2<T>(s[mt][2 * kk][0], s[mt][2 * kk][1]);
                pa[mt][1] = pack2<T>(s[mt][2 * kk][2], s[mt][2 * kk][3]);
                pa[mt][2] = pack2<T>(s[mt][2 * kk + 1][0], s[mt][2 * kk + 1][1]);
                pa[mt][3] = pack2<T>(s[mt][2 * kk + 1][2], s[mt][2 * kk + 1][3]);
            }
#pragma unroll
            for (int dp = 0; dp < DT / 2; dp++) {
                uint32_t vb[4];
                ldsm_x4_trans(vb, v_lane + st * TILE + kk * 16 * ROW + (((2 * dp) ^ xq) << 4));
#pragma unroll
                for (int mt = 0; mt < MT; mt++) {
                    mma16816<T>(o[mt][2 * dp], pa[mt], vb[0], vb[1]);
                    mma16816<T>(o[mt][2 * dp + 1], pa[mt], vb[2], vb[3]);
                }
            }
        }
    }

    // O / l → dst [B, Lq, H, D]
#pragma unroll
    for (int mt = 0; mt < MT; mt++)
#pragma unroll
        for (int hh = 0; hh < 2; hh++) {
            float sum = l[mt][hh];
            sum += __shfl_xor_sync(0xffffffffu, sum, 1);
            sum += __shfl_xor_sync(0xffffffffu, sum, 2);
            const float inv = sum > 0.f ? 1.f / sum : 0.f;
            const int r = r_lo + mt * 16 + hh * 8;
            if (m0 + r >= a.Lq) continue;
#pragma unroll
            for (int dt = 0; dt < DT; dt++)
                *reinterpret_cast<uint32_t *>(out + (int64_t)r * a.H * D + dt * 8 + 2 * (lane & 3)) =
                    pack2<T>(o[mt][dt][2 * hh] * inv, o[mt][dt][2 * hh + 1] * inv);
        }
}

template <typename T, int D, int BM, int BN>
bool flash_launch(svg_cuda_ctx &c, const flash_args &a, int B, bool *handled) {
    constexpr size_t smem = flash_smem_bytes<D, BM, BN>();
    if (smem > c.smem_optin) return true;  // not handled: too little shared memory
    *handled = true;
    auto kernel = flash_fwd_kernel<T, D, BM, BN>;
    SVG_CUDA_CHECK(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)smem));
    const dim3 grid((unsigned)((a.Lq + BM - 1) / BM), (unsigned)a.H, (unsigned)B);
    kernel<<<grid, FLASH_THREADS, smem, c.stream>>>(a);
    SVG_CUDA_LAUNCHED();
    return true;
}

// Tile shapes (BM×BN). Two blocks per SM are needed so that one block's
// softmax runs under the other's MMAs. Measured on an H100 (Wan 480p, bf16):
// D=128 128×64 387 TFLOP/s, 128×32 372; D=64 128×64 350; 64-row query tiles
// were 10–30% slower. Where two 96.5 KB blocks of D=128 128×64 do not fit in
// an SM (A100: 164 KB, sm_86/89: 100 KB; each block also takes 1 KB of
// reserve) the 64.3 KB 128×32 shape is used.
template <typename T>
bool flash_dispatch(svg_cuda_ctx &c, const flash_args &a, int B, int D, bool *handled) {
    if (D == 64) return flash_launch<T, 64, 128, 64>(c, a, B, handled);
    if (2 * (flash_smem_bytes<128, 128, 64>() + 1024) <= c.smem_optin + 1024) return flash_launch<T, 128, 128, 64>(c, a, B, handled);
    return flash_launch<T, 128, 128, 32>(c, a, B, handled);
}

bool aligned16(const svg_tensor *t) {
    return ((uintptr_t)t->data | t->nb[0] | t->nb[1] | t->nb[2]) % 16 == 0;
}

}  // namespace

// Runs the attention node dst on the flash kernel if its configuration is one
// the kernel covers; otherwise sets *handled = false and enqueues nothing.
// Returns false only on a CUDA error.
bool svg_cuda_flash_attention(svg_cuda_ctx &c, svg_tensor *dst, bool *handled) {
    *handled = false;
    const svg_tensor *q = dst->src[0], *k = dst->src[1], *v = dst->src[2], *mask = dst->src[4];
    const enum svg_type t = q->type;
    if (t != SVG_TYPE_F16 && t != SVG_TYPE_BF16) return true;
    if (k->type != t || v->type != t || dst->type != t || dst->src[3]) return true;
    if (dst->op_params[2]) return true;  // the Sparse VideoGen band mask: the Hopper kernel or the general one
    const int64_t D = q->ne[3];
    if ((D != 64 && D != 128) || v->ne[3] != D) return true;
    if (q->nb[3] != 2 || k->nb[3] != 2 || v->nb[3] != 2 || !aligned16(q) || !aligned16(k) || !aligned16(v)) return true;
    const float scale = svg_param_f32(dst, 0);
    if (!(scale > 0.f) || !std::isfinite(scale)) return true;
    const int64_t B = q->ne[0], H = q->ne[1], Lq = q->ne[2], Hkv = k->ne[1], Lk = k->ne[2];
    if (B > 65535 || H > 65535 || Lq > INT32_MAX - 256 || Lk > INT32_MAX - 256) return true;
    if (B == 0 || H == 0 || Lq == 0) {
        *handled = true;
        return true;
    }
    flash_args a{};
    a.q = (const char *)q->data;
    a.k = (const char *)k->data;
    a.v = (const char *)v->data;
    a.o = dst->data;
    for (int d = 0; d < 3; d++) {
        a.qs[d] = (int64_t)q->nb[d];
        a.ks[d] = (int64_t)k->nb[d];
        a.vs[d] = (int64_t)v->nb[d];
    }
    if (mask) {
        a.mask = (const char *)mask->data;
        a.ms[0] = (int64_t)mask->nb[0];
        a.ms[1] = (int64_t)mask->nb[1];
        a.mbits = mask->type == SVG_TYPE_F32 ? 0x7fffffffu : 0xffffffffu;
        if (!svg_cuda_mask_keep(c, mask, &a.mask_keep)) return false;
    }
    a.H = (int)H;
    a.group = (int)(H / Hkv);
    a.Lq = (int)Lq;
    a.Lk = (int)Lk;
    a.sl = scale * 1.4426950408889634f;
    a.causal = dst->op_params[1] != 0;
    return t == SVG_TYPE_BF16 ? flash_dispatch<__nv_bfloat16>(c, a, (int)B, (int)D, handled)
                              : flash_dispatch<__half>(c, a, (int)B, (int)D, handled);
}
