// Flash attention forward for Hopper (sm_90a): TMA + mbarrier pipeline,
// warp-specialized warpgroups, wgmma tensor cores (the FlashAttention-3 plan).
//
// Math (per batch b, head h, kv head g = h / (H/Hkv)):
//   S = scale · Q Kᵀ over one tile of BN keys, online softmax in base 2
//   (m = running row max, l = running row sum), O = O·2^(m_old−m_new) + P V,
//   finally O / l (rows with no visible key stay 0).
//
// Block = 3 warpgroups, BM = 128 query rows of one (b, h):
//   warpgroup 0 — producer: one thread issues TMA loads (Q once, then K_j and
//     V_j into STAGES-deep rings), each completing on a "full" mbarrier; it
//     waits on the ring slot's "empty" mbarrier before refilling it. It gives
//     its registers away (setmaxnreg.dec) to the consumers.
//   warpgroups 1, 2 — consumers, 64 query rows each:
//     S (64×BN f32 registers) = Q_wg (smem) · K_jᵀ (smem)      wgmma SS
//     O (64×HD f32 registers) += P (bf16/f16 registers) · V_j  wgmma RS
//     The S accumulator layout equals the A-operand register layout, so P
//     never touches shared memory.
// Overlap inside a consumer: iteration j issues S_j = Q K_jᵀ and then
// O += P_{j−1} V_{j−1} back to back, and computes the softmax of S_j while the
// P·V product runs on the tensor cores. Overlap across consumers (ping-pong):
// two named barriers make the warpgroups take turns issuing their GEMMs, so
// one's softmax (exp2 on the multi-function unit) runs under the other's
// GEMMs.
//
// Shared memory: every [rows × HD] tile is stored as HD/64 column halves of
// [rows × 64] elements (128-byte rows) in the 128-byte swizzle that both TMA
// (CU_TENSOR_MAP_SWIZZLE_128B, box 64 × rows) and wgmma use: the 16-byte chunk
// c of row r sits at chunk c ^ (r mod 8). Rows past the sequence end are
// zero-filled by TMA (and masked in the softmax).
// Descriptors (K-major Q, K): SBO = 1024 B (8 rows of 128 B); a k-step of 16
// elements advances the start address by 32 B inside a half. V is read
// MN-major (imm-trans-b = 1): the two 64-column halves are BN·128 B apart
// (LBO), groups of 8 keys SBO = 1024 B apart.
#include "cuda-mma.cuh"

#include <cuda.h>
#include <cudaTypedefs.h>

#include <type_traits>

namespace {

struct fa_args {
    const char *mask;
    const int *mask_keep;  // with mask: per batch, keys below it are all kept (svg_cuda_mask_keep)
    char *o;
    int64_t ms[2];  // mask strides (bytes) of b, token
    int64_t H, Hkv, Lq, Lk;
    float scale_log2;  // scale · log2(e)
    bool causal;
    int mask_i32;
    bool sparse;
    svg_sparse_mask band;  // Sparse VideoGen (sparse): only the key tiles under the band are visited
};

constexpr int BM = 128, BN = 128, NTHREADS = 384;

constexpr size_t smem_bytes(int hd, int stages) {
    return (size_t)BM * hd * 2 + 2 * (size_t)stages * BN * hd * 2 + 1024 /* alignment */ + 256 /* mbarriers */;
}

#if defined(__CUDA_ARCH__) && (__CUDA_ARCH__ >= 900) && defined(__CUDA_ARCH_FEAT_SM90_ALL)
#define SVG_SM90_DEVICE 1
#endif


#ifdef SVG_SM90_DEVICE
#define SVG_ACC64 "{%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, %16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31, %32, %33, %34, %35, %36, %37, %38, %39, %40, %41, %42, %43, %44, %45, %46, %47, %48, %49, %50, %51, %52, %53, %54, %55, %56, %57, %58, %59, %60, %61, %62, %63}"
#define SVG_ACC32 "{%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, %16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31}"
#define SVG_ACC64_OUT(d) "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]), "+f"(d[7]), "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]), "+f"(d[14]), "+f"(d[15]), "+f"(d[16]), "+f"(d[17]), "+f"(d[18]), "+f"(d[19]), "+f"(d[20]), "+f"(d[21]), "+f"(d[22]), "+f"(d[23]), "+f"(d[24]), "+f"(d[25]), "+f"(d[26]), "+f"(d[27]), "+f"(d[28]), "+f"(d[29]), "+f"(d[30]), "+f"(d[31]), "+f"(d[32]), "+f"(d[33]), "+f"(d[34]), "+f"(d[35]), "+f"(d[36]), "+f"(d[37]), "+f"(d[38]), "+f"(d[39]), "+f"(d[40]), "+f"(d[41]), "+f"(d[42]), "+f"(d[43]), "+f"(d[44]), "+f"(d[45]), "+f"(d[46]), "+f"(d[47]), "+f"(d[48]), "+f"(d[49]), "+f"(d[50]), "+f"(d[51]), "+f"(d[52]), "+f"(d[53]), "+f"(d[54]), "+f"(d[55]), "+f"(d[56]), "+f"(d[57]), "+f"(d[58]), "+f"(d[59]), "+f"(d[60]), "+f"(d[61]), "+f"(d[62]), "+f"(d[63])
#define SVG_ACC32_OUT(d) "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]), "+f"(d[7]), "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]), "+f"(d[14]), "+f"(d[15]), "+f"(d[16]), "+f"(d[17]), "+f"(d[18]), "+f"(d[19]), "+f"(d[20]), "+f"(d[21]), "+f"(d[22]), "+f"(d[23]), "+f"(d[24]), "+f"(d[25]), "+f"(d[26]), "+f"(d[27]), "+f"(d[28]), "+f"(d[29]), "+f"(d[30]), "+f"(d[31])

// S(64×128, f32) (+)= A · Bᵀ, both from shared memory (K-major descriptors)
#define SVG_WGMMA_SS_N128(TY)                                                                          \
    asm volatile("{\n.reg .pred p;\nsetp.ne.b32 p, %66, 0;\n"                                          \
                 "wgmma.mma_async.sync.aligned.m64n128k16.f32." TY "." TY " " SVG_ACC64                \
                 ", %64, %65, p, 1, 1, 0, 0;\n}\n"                                                     \
                 : SVG_ACC64_OUT(d)                                                                    \
                 : "l"(da), "l"(db), "r"(accumulate))
// O(64×N, f32) += A (registers) · B (shared memory, MN-major)
#define SVG_WGMMA_RS_N128(TY)                                                                          \
    asm volatile("{\n.reg .pred p;\nsetp.eq.u32 p, 1, 1;\n"                                            \
                 "wgmma.mma_async.sync.aligned.m64n128k16.f32." TY "." TY " " SVG_ACC64                \
                 ", {%64, %65, %66, %67}, %68, p, 1, 1, 1;\n}\n"                                       \
                 : SVG_ACC64_OUT(d)                                                                    \
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(db))
#define SVG_WGMMA_RS_N64(TY)                                                                           \
    asm volatile("{\n.reg .pred p;\nsetp.eq.u32 p, 1, 1;\n"                                            \
                 "wgmma.mma_async.sync.aligned.m64n64k16.f32." TY "." TY " " SVG_ACC32                 \
                 ", {%32, %33, %34, %35}, %36, p, 1, 1, 1;\n}\n"                                       \
                 : SVG_ACC32_OUT(d)                                                                    \
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(db))

template <typename T>
__device__ __forceinline__ void wgmma_qk(float (&d)[64], uint64_t da, uint64_t db, int accumulate) {
    if constexpr (std::is_same<T, __nv_bfloat16>::value) SVG_WGMMA_SS_N128("bf16");
    else SVG_WGMMA_SS_N128("f16");
}
template <typename T>
__device__ __forceinline__ void wgmma_pv(float (&d)[64], const uint32_t (&a)[4], uint64_t db) {
    if constexpr (std::is_same<T, __nv_bfloat16>::value) SVG_WGMMA_RS_N128("bf16");
    else SVG_WGMMA_RS_N128("f16");
}
template <typename T>
__device__ __forceinline__ void wgmma_pv(float (&d)[32], const uint32_t (&a)[4], uint64_t db) {
    if constexpr (std::is_same<T, __nv_bfloat16>::value) SVG_WGMMA_RS_N64("bf16");
    else SVG_WGMMA_RS_N64("f16");
}

__device__ __forceinline__ void wgmma_fence() { asm volatile("wgmma.fence.sync.aligned;\n" ::: "memory"); }
__device__ __forceinline__ void wgmma_commit() { asm volatile("wgmma.commit_group.sync.aligned;\n" ::: "memory"); }
template <int N>
__device__ __forceinline__ void wgmma_wait() { asm volatile("wgmma.wait_group.sync.aligned %0;\n" ::"n"(N) : "memory"); }

__device__ __forceinline__ uint64_t smem_desc(uint32_t addr, uint32_t lbo, uint32_t sbo) {
    return (uint64_t)((addr & 0x3FFFF) >> 4) | ((uint64_t)((lbo >> 4) & 0x3FFF) << 16) |
           ((uint64_t)((sbo >> 4) & 0x3FFF) << 32) | (1ull << 62);  // 128-byte swizzle
}

__device__ __forceinline__ void mbar_init(uint32_t bar, int count) {
    asm volatile("mbarrier.init.shared::cta.b64 [%0], %1;\n" ::"r"(bar), "r"(count));
}
__device__ __forceinline__ void mbar_expect_tx(uint32_t bar, uint32_t bytes) {
    asm volatile("mbarrier.arrive.expect_tx.shared::cta.b64 _, [%0], %1;\n" ::"r"(bar), "r"(bytes) : "memory");
}
__device__ __forceinline__ void mbar_arrive(uint32_t bar) {
    asm volatile("mbarrier.arrive.shared::cta.b64 _, [%0];\n" ::"r"(bar) : "memory");
}
// Waits until the phase of the given parity has completed.
__device__ __forceinline__ void mbar_wait(uint32_t bar, uint32_t parity) {
    asm volatile(
        "{\n.reg .pred done;\n"
        "WAIT_%=:\n"
        "mbarrier.try_wait.parity.shared::cta.b64 done, [%0], %1;\n"
        "@!done bra WAIT_%=;\n}\n" ::"r"(bar),
        "r"(parity)
        : "memory");
}
// TMA: box (64 elements × rows) at coordinates (d0, row, head, batch) → smem
__device__ __forceinline__ void tma_load(uint32_t dst, const CUtensorMap *map, int d0, int row, int head, int batch,
                                         uint32_t bar) {
    asm volatile(
        "cp.async.bulk.tensor.4d.shared::cluster.global.mbarrier::complete_tx::bytes [%0], [%1, {%2, %3, %4, %5}], [%6];\n" ::"r"(dst),
        "l"((uint64_t)map), "r"(d0), "r"(row), "r"(head), "r"(batch), "r"(bar)
        : "memory");
}
// Named barriers 1, 2 order the two consumer warpgroups' GEMM issue.
__device__ __forceinline__ void named_sync(int id) { asm volatile("bar.sync %0, 256;\n" ::"r"(id) : "memory"); }
__device__ __forceinline__ void named_arrive(int id) { asm volatile("bar.arrive %0, 256;\n" ::"r"(id) : "memory"); }

// The key tiles the query rows [q0, q0 + BM) visit, in order: up to three
// sorted disjoint ranges of tile indices. Dense: all tiles (causal: up to the
// diagonal). Under the Sparse VideoGen band, a block of video queries visits
// the text-before + sink rows, its band, and the text-after rows; a block
// holding a text query visits everything (text sees every key).
// (Scalars, not arrays: a run-time index would put them in local memory.)
struct key_tiles {
    int lo0 = 0, hi0 = 0, lo1 = 0, hi1 = 0, lo2 = 0, hi2 = 0, n = 0, total = 0;
    __device__ void add_rows(int64_t r0, int64_t r1) {
        if (r1 <= r0) return;
        const int a = (int)(r0 / BN), b = (int)((r1 + BN - 1) / BN);
        // overlaps or touches the previous range: extend it
        if (n == 1 && a <= hi0) {
            total += max(0, b - hi0);
            hi0 = max(hi0, b);
            return;
        }
        if (n == 2 && a <= hi1) {
            total += max(0, b - hi1);
            hi1 = max(hi1, b);
            return;
        }
        if (n == 0) lo0 = a, hi0 = b;
        else if (n == 1) lo1 = a, hi1 = b;
        else lo2 = a, hi2 = b;
        n++;
        total += b - a;
    }
    __device__ key_tiles(const fa_args &a, int64_t q0) {
        const svg_sparse_mask &m = a.band;
        const int64_t q1 = min(q0 + BM, a.Lq) - 1, tb = m.text_before, video = m.video();
        if (!a.sparse || q0 < tb || q1 >= tb + video) {
            int64_t rows = a.Lk;
            if (a.causal) rows = max((int64_t)0, min(a.Lk, q1 + a.Lk - a.Lq + 1));
            add_rows(0, rows);
            return;
        }
        const int64_t p0 = q0 - tb, p1 = q1 - tb;
        add_rows(0, tb + m.sink * m.tpf);
        add_rows(tb + max((int64_t)0, p0 - m.band), tb + min(video, p1 + m.band + 1));
        add_rows(tb + video, a.Lk);
    }
    // tile index of the t-th tile visited
    __device__ int at(int t) const {
        if (t < hi0 - lo0) return lo0 + t;
        t -= hi0 - lo0;
        if (t < hi1 - lo1) return lo1 + t;
        return lo2 + t - (hi1 - lo1);
    }
};

// Whether every key row in [k0, k1] is visible to every query row in [r0, r1]
// under the band (so the tile needs no per-element mask).
__device__ __forceinline__ bool band_covers(const fa_args &a, int64_t r0, int64_t r1, int64_t k0, int64_t k1) {
    if (!a.sparse) return true;
    const svg_sparse_mask &m = a.band;
    const int64_t v0 = m.text_before, v1 = v0 + m.video();
    if (r1 < v0 || r0 >= v1) return true;    // text queries only
    if (r0 < v0 || r1 >= v1) return false;   // text and video queries
    if (k1 < v0 + m.sink * m.tpf || k0 >= v1) return true;  // text-before + sink, or text-after keys
    return k0 >= v0 && k1 < v1 && r1 - k0 <= m.band && k1 - r0 <= m.band;
}

#endif  // SVG_SM90_DEVICE

// 1 in the sm_90a build of this file (the host checks before choosing it: an
// sm_90 or PTX-JIT build compiles the kernel body away).
__global__ void flash_sm90_probe(int *out) {
#ifdef SVG_SM90_DEVICE
    *out = 1;
#else
    *out = 0;
#endif
}

template <typename T, int HD, int STAGES>
__global__ void __launch_bounds__(NTHREADS, 1)
    flash_sm90_kernel(const __grid_constant__ CUtensorMap tm_q, const __grid_constant__ CUtensorMap tm_k,
                      const __grid_constant__ CUtensorMap tm_v, const fa_args a) {
#ifdef SVG_SM90_DEVICE
    constexpr int HALVES = HD / 64;
    constexpr uint32_t Q_BYTES = BM * HD * 2, KV_BYTES = BN * HD * 2;
    extern __shared__ __align__(1024) unsigned char smem_raw[];
    const uint32_t smem0 = ((uint32_t)__cvta_generic_to_shared(smem_raw) + 1023) & ~1023u;
    const uint32_t sQ = smem0, sK = sQ + Q_BYTES, sV = sK + STAGES * KV_BYTES, bars = sV + STAGES * KV_BYTES;
    const uint32_t bar_q = bars;
    auto full_k = [&](int s) { return bars + 8 + 8 * s; };
    auto full_v = [&](int s) { return bars + 8 + 8 * (STAGES + s); };
    auto empty_k = [&](int s) { return bars + 8 + 8 * (2 * STAGES + s); };
    auto empty_v = [&](int s) { return bars + 8 + 8 * (3 * STAGES + s); };

    const int tid = threadIdx.x, wg = tid / 128;
    const int b = blockIdx.z, h = blockIdx.y, q0 = blockIdx.x * BM;
    const int g = (int)(h / (a.H / a.Hkv));

    const key_tiles tiles(a, q0);
    const int n_tiles = tiles.total;

    if (tid == 0) {
        mbar_init(bar_q, 1);
        for (int s = 0; s < STAGES; s++) {
            mbar_init(full_k(s), 1);
            mbar_init(full_v(s), 1);
            mbar_init(empty_k(s), 8);  // lane 0 of each consumer warp
            mbar_init(empty_v(s), 8);
        }
        asm volatile("fence.mbarrier_init.release.cluster;\n" ::: "memory");
    }
    __syncthreads();

    if (wg == 0) {
        // ---------------- producer
        asm volatile("setmaxnreg.dec.sync.aligned.u32 24;\n");
        if (tid == 0 && n_tiles > 0) {
            mbar_expect_tx(bar_q, Q_BYTES);
#pragma unroll
            for (int hf = 0; hf < HALVES; hf++) tma_load(sQ + hf * BM * 128, &tm_q, hf * 64, q0, h, b, bar_q);
            // order: K_0, then K_{j+1}, V_j — the order the consumers use them
            auto load = [&](const CUtensorMap *map, uint32_t ring, int j, uint32_t full, uint32_t empty) {
                mbar_wait(empty, ((j / STAGES) & 1) ^ 1);
                mbar_expect_tx(full, KV_BYTES);
                const uint32_t dst = ring + (j % STAGES) * KV_BYTES;
                const int row = tiles.at(j) * BN;
#pragma unroll
                for (int hf = 0; hf < HALVES; hf++) tma_load(dst + hf * BN * 128, map, hf * 64, row, g, b, full);
            };
            load(&tm_k, sK, 0, full_k(0), empty_k(0));
            for (int j = 0; j < n_tiles; j++) {
                if (j + 1 < n_tiles) load(&tm_k, sK, j + 1, full_k((j + 1) % STAGES), empty_k((j + 1) % STAGES));
                load(&tm_v, sV, j, full_v(j % STAGES), empty_v(j % STAGES));
            }
        }
        return;
    }

    // ---------------- consumers
    asm volatile("setmaxnreg.inc.sync.aligned.u32 240;\n");
    const int cw = wg - 1, wtid = tid % 128, warp = wtid / 32, lane = tid % 32;
    const int r_lo = warp * 16 + lane / 4;  // this thread's two rows within the warpgroup
    const int64_t qi0 = q0 + cw * 64 + r_lo, qi1 = qi0 + 8;
    const int64_t H = a.H;
    constexpr int NO = HD / 2;  // O accumulator registers per thread
    float o[NO];
#pragma unroll
    for (int i = 0; i < NO; i++) o[i] = 0.f;
    float l0 = 0.f, l1 = 0.f;

    if (n_tiles > 0) {
        float m0 = -INFINITY, m1 = -INFINITY, c0 = 1.f, c1 = 1.f;
        const int64_t mask_keep = a.mask ? a.mask_keep[b] : a.Lk;
        uint32_t p[BN / 16][4];  // P of the previous tile, as wgmma A fragments
        float s[BN / 2];

        auto issue_qk = [&](int j) {
            mbar_wait(full_k(j % STAGES), (j / STAGES) & 1);
            const uint32_t kst = sK + (j % STAGES) * KV_BYTES;
            wgmma_fence();
#pragma unroll
            for (int kk = 0; kk < HD / 16; kk++) {
                const uint32_t hf = kk / 4, koff = (kk % 4) * 32;
                const uint64_t da = smem_desc(sQ + hf * BM * 128 + cw * 64 * 128 + koff, 16, 1024);
                const uint64_t db = smem_desc(kst + hf * BN * 128 + koff, 16, 1024);
                wgmma_qk<T>(s, da, db, kk);
            }
            wgmma_commit();
        };
        auto issue_pv = [&](int j) {
            mbar_wait(full_v(j % STAGES), (j / STAGES) & 1);
            const uint32_t vst = sV + (j % STAGES) * KV_BYTES;
            wgmma_fence();
#pragma unroll
            for (int t = 0; t < BN / 16; t++) wgmma_pv<T>(o, p[t], smem_desc(vst + t * 16 * 128, BN * 128, 1024));
            wgmma_commit();
        };
        auto release = [&](uint32_t empty) {
            __syncwarp();
            if (lane == 0) mbar_arrive(empty);
        };
        // Online softmax of S_j: raw scores → probabilities in place (f32), the
        // correction c and l.
        auto softmax = [&](int j) {
            const int64_t k0 = (int64_t)tiles.at(j) * BN, r0 = q0 + cw * 64;
            const bool need_mask = k0 + BN > mask_keep || k0 + BN > a.Lk || (a.causal && k0 + BN - 1 > r0 + a.Lk - a.Lq) ||
                                   !band_covers(a, r0, min(r0 + 63, a.Lq - 1), k0, k0 + BN - 1);
            if (need_mask) {
                // Per row, the visible columns c of this tile (key k0 + c):
                // c < lim (past Lk; causal: past the row's last key), and under
                // the band c ∈ [lo, hi], or c < sink_end (text-before and sink
                // keys), or c ≥ video_end (text-after keys). Column bounds are
                // clamped to [−1, BN] so they fit in ints.
                auto rel = [&](int64_t x) { return (int)max((int64_t)-1, min((int64_t)BN, x - k0)); };
                const svg_sparse_mask &m = a.band;
                const int lim_all = rel(a.Lk);
                const int sink_end = a.sparse ? rel(m.text_before + m.sink * m.tpf) : BN;
                const int video_end = a.sparse ? rel(m.text_before + m.video()) : BN;
                int lim[2], lo[2], hi[2];
#pragma unroll
                for (int r = 0; r < 2; r++) {
                    const int64_t qi = r ? qi1 : qi0, p = qi - m.text_before;
                    lim[r] = a.causal ? min(lim_all, rel(qi + a.Lk - a.Lq + 1)) : lim_all;
                    const bool banded = a.sparse && p >= 0 && p < m.video();  // text rows see every key
                    lo[r] = banded ? rel(m.text_before + p - m.band) : 0;
                    hi[r] = banded ? rel(m.text_before + p + m.band) : BN - 1;
                }
#pragma unroll
                for (int jj = 0; jj < BN / 8; jj++)
#pragma unroll
                    for (int e = 0; e < 2; e++) {
                        const int c = 8 * jj + 2 * (lane % 4) + e;
                        bool key_ok = true;
                        if (a.mask && c < lim_all) {
                            const char *pm = a.mask + b * a.ms[0] + (k0 + c) * a.ms[1];
                            key_ok = a.mask_i32 ? *(const int32_t *)pm != 0 : *(const float *)pm != 0.f;
                        }
                        const bool outside = c < sink_end || c >= video_end;
#pragma unroll
                        for (int r = 0; r < 2; r++)
                            if (!(key_ok && c < lim[r] && (outside || (c >= lo[r] && c <= hi[r])))) s[jj * 4 + 2 * r + e] = -INFINITY;
                    }
            }
            float mx0 = -INFINITY, mx1 = -INFINITY;
#pragma unroll
            for (int jj = 0; jj < BN / 8; jj++) {
                mx0 = fmaxf(mx0, fmaxf(s[jj * 4 + 0], s[jj * 4 + 1]));
                mx1 = fmaxf(mx1, fmaxf(s[jj * 4 + 2], s[jj * 4 + 3]));
            }
            mx0 = fmaxf(mx0, __shfl_xor_sync(0xffffffff, mx0, 1));
            mx0 = fmaxf(mx0, __shfl_xor_sync(0xffffffff, mx0, 2));
            mx1 = fmaxf(mx1, __shfl_xor_sync(0xffffffff, mx1, 1));
            mx1 = fmaxf(mx1, __shfl_xor_sync(0xffffffff, mx1, 2));
            const float n0 = fmaxf(m0, mx0 * a.scale_log2), n1 = fmaxf(m1, mx1 * a.scale_log2);
            const float base0 = n0 == -INFINITY ? 0.f : n0, base1 = n1 == -INFINITY ? 0.f : n1;
            c0 = ex2(m0 - base0);  // m == -inf → 0
            c1 = ex2(m1 - base1);
            m0 = n0;
            m1 = n1;
            float sum0 = 0.f, sum1 = 0.f;
#pragma unroll
            for (int jj = 0; jj < BN / 8; jj++) {
                s[jj * 4 + 0] = ex2(fmaf(s[jj * 4 + 0], a.scale_log2, -base0));
                s[jj * 4 + 1] = ex2(fmaf(s[jj * 4 + 1], a.scale_log2, -base0));
                s[jj * 4 + 2] = ex2(fmaf(s[jj * 4 + 2], a.scale_log2, -base1));
                s[jj * 4 + 3] = ex2(fmaf(s[jj * 4 + 3], a.scale_log2, -base1));
                sum0 += s[jj * 4 + 0] + s[jj * 4 + 1];
                sum1 += s[jj * 4 + 2] + s[jj * 4 + 3];
            }
            l0 = l0 * c0 + sum0;
            l1 = l1 * c1 + sum1;
        };
        // P as wgmma A fragments: k-step t covers keys 16t..16t+15 (S columns 8(2t)+…)
        auto pack_p = [&]() {
#pragma unroll
            for (int t = 0; t < BN / 16; t++)
#pragma unroll
                for (int u = 0; u < 2; u++) {
                    const int jj = 2 * t + u;
                    p[t][2 * u + 0] = pack2<T>(s[jj * 4 + 0], s[jj * 4 + 1]);
                    p[t][2 * u + 1] = pack2<T>(s[jj * 4 + 2], s[jj * 4 + 3]);
                }
        };
        auto rescale_o = [&]() {
#pragma unroll
            for (int i = 0; i < NO / 4; i++) {
                o[i * 4 + 0] *= c0;
                o[i * 4 + 1] *= c0;
                o[i * 4 + 2] *= c1;
                o[i * 4 + 3] *= c1;
            }
        };
        // consumer 0 issues first; each passes the turn to the other after issuing
        // (consumer 1 skips its last hand-over, which nobody would wait for)
        auto turn_begin = [&]() { named_sync(1 + cw); };
        auto turn_end = [&](bool last) {
            if (!(last && cw == 1)) named_arrive(2 - cw);
        };
        if (cw == 1) named_arrive(1);

        mbar_wait(bar_q, 0);
        turn_begin();
        issue_qk(0);
        turn_end(false);
        wgmma_wait<0>();
        release(empty_k(0));
        softmax(0);
        pack_p();
        for (int j = 1; j < n_tiles; j++) {
            turn_begin();
            issue_qk(j);
            rescale_o();
            issue_pv(j - 1);
            turn_end(false);
            wgmma_wait<1>();
            release(empty_k(j % STAGES));
            softmax(j);
            wgmma_wait<0>();
            release(empty_v((j - 1) % STAGES));
            // p fed the P·V product just completed: only now may it change
            pack_p();
        }
        turn_begin();
        rescale_o();
        issue_pv(n_tiles - 1);
        turn_end(true);
        wgmma_wait<0>();
        release(empty_v((n_tiles - 1) % STAGES));
    }

    // ---- epilogue: O / l → [B, Lq, H, HD]
    l0 += __shfl_xor_sync(0xffffffff, l0, 1);
    l0 += __shfl_xor_sync(0xffffffff, l0, 2);
    l1 += __shfl_xor_sync(0xffffffff, l1, 1);
    l1 += __shfl_xor_sync(0xffffffff, l1, 2);
    const float inv0 = l0 > 0.f ? 1.f / l0 : 0.f, inv1 = l1 > 0.f ? 1.f / l1 : 0.f;
#pragma unroll
    for (int j = 0; j < HD / 8; j++) {
        const int col = 8 * j + 2 * (lane % 4);
        if (qi0 < a.Lq) *(uint32_t *)(a.o + (((b * a.Lq + qi0) * H + h) * HD + col) * 2) = pack2<T>(o[j * 4] * inv0, o[j * 4 + 1] * inv0);
        if (qi1 < a.Lq) *(uint32_t *)(a.o + (((b * a.Lq + qi1) * H + h) * HD + col) * 2) = pack2<T>(o[j * 4 + 2] * inv1, o[j * 4 + 3] * inv1);
    }
#endif
}

PFN_cuTensorMapEncodeTiled_v12000 tensor_map_encoder() {
    static PFN_cuTensorMapEncodeTiled_v12000 fn = [] {
        void *p = nullptr;
        cudaDriverEntryPointQueryResult q{};
        if (cudaGetDriverEntryPointByVersion("cuTensorMapEncodeTiled", &p, 12000, cudaEnableDefault, &q) != cudaSuccess ||
            q != cudaDriverEntryPointSuccess)
            p = nullptr;
        return (PFN_cuTensorMapEncodeTiled_v12000)p;
    }();
    return fn;
}

// A [B, H, L, D] tensor (D contiguous) as a TMA map over (D, L, H, B) with
// boxes of 64 × rows elements, 128-byte swizzled. False where TMA cannot
// address it (alignment, strides).
bool make_map(CUtensorMap *map, const svg_tensor *t, int rows) {
    auto encode = tensor_map_encoder();
    if (!encode || ((uintptr_t)t->data & 15)) return false;
    const cuuint64_t dims[4] = {(cuuint64_t)t->ne[3], (cuuint64_t)t->ne[2], (cuuint64_t)t->ne[1], (cuuint64_t)t->ne[0]};
    cuuint64_t strides[3] = {(cuuint64_t)t->nb[2], (cuuint64_t)t->nb[1], (cuuint64_t)t->nb[0]};
    // a dimension of size 1 is never stepped: give it a stride TMA accepts
    for (int i = 0; i < 3; i++)
        if (dims[i + 1] == 1) strides[i] = 16;
    for (cuuint64_t s : strides)
        if (s % 16 || s == 0 || s >= (1ull << 40)) return false;
    const cuuint32_t box[4] = {64, (cuuint32_t)rows, 1, 1}, estr[4] = {1, 1, 1, 1};
    const CUtensorMapDataType dt = t->type == SVG_TYPE_BF16 ? CU_TENSOR_MAP_DATA_TYPE_BFLOAT16 : CU_TENSOR_MAP_DATA_TYPE_FLOAT16;
    return encode(map, dt, 4, t->data, dims, strides, box, estr, CU_TENSOR_MAP_INTERLEAVE_NONE, CU_TENSOR_MAP_SWIZZLE_128B,
                  CU_TENSOR_MAP_L2_PROMOTION_L2_256B, CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE) == CUDA_SUCCESS;
}

// Whether this binary holds the sm_90a kernel body (checked once per device).
bool sm90_kernel_built(svg_cuda_ctx &c) {
    static int known[64];  // 0 unknown, 1 yes, 2 no
    int &k = known[c.device & 63];
    if (k == 0) {
        int *d = nullptr, h = 0;
        k = 2;
        if (cudaMalloc(&d, sizeof(int)) == cudaSuccess) {
            flash_sm90_probe<<<1, 1, 0, c.stream>>>(d);
            if (cudaMemcpyAsync(&h, d, sizeof(int), cudaMemcpyDeviceToHost, c.stream) == cudaSuccess &&
                cudaStreamSynchronize(c.stream) == cudaSuccess && h == 1)
                k = 1;
            cudaFree(d);
        }
        cudaGetLastError();  // a probe that could not launch only means "no"
    }
    return k == 1;
}

// Leaves *handled false where the device's shared memory cannot hold the tiles.
template <typename T, int HD, int STAGES>
bool launch(svg_cuda_ctx &c, const CUtensorMap (&maps)[3], const fa_args &a, int64_t B, int64_t H, int64_t Lq, bool *handled) {
    const size_t smem = smem_bytes(HD, STAGES);
    if (smem > c.smem_optin) return true;
    *handled = true;
    auto kern = flash_sm90_kernel<T, HD, STAGES>;
    SVG_CUDA_CHECK(cudaFuncSetAttribute(kern, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)smem));
    const dim3 grid((unsigned)((Lq + BM - 1) / BM), (unsigned)H, (unsigned)B);
    kern<<<grid, NTHREADS, smem, c.stream>>>(maps[0], maps[1], maps[2], a);
    SVG_CUDA_LAUNCHED();
    return true;
}

// Three K/V stages where the shared memory holds them (Hopper: 227 KB), else two.
template <typename T, int HD>
bool launch_fitting(svg_cuda_ctx &c, const CUtensorMap (&maps)[3], const fa_args &a, int64_t B, int64_t H, int64_t Lq, bool *handled) {
    if (smem_bytes(HD, 3) <= c.smem_optin) return launch<T, HD, 3>(c, maps, a, B, H, Lq, handled);
    return launch<T, HD, 2>(c, maps, a, B, H, Lq, handled);
}

}  // namespace

bool svg_cuda_flash_attention_sm90(svg_cuda_ctx &c, svg_tensor *dst, bool *handled) {
    *handled = false;
    if (c.cc_major != 9) return true;
    const svg_tensor *q = dst->src[0], *k = dst->src[1], *v = dst->src[2], *mask = dst->src[4];
    if (dst->src[3] || q->type != k->type || q->type != v->type || dst->type != q->type) return true;
    if (q->type != SVG_TYPE_BF16 && q->type != SVG_TYPE_F16) return true;
    const int64_t D = q->ne[3];
    if ((D != 64 && D != 128) || v->ne[3] != D || k->ne[3] != D) return true;
    if (q->nb[3] != 2 || k->nb[3] != 2 || v->nb[3] != 2) return true;
    const int64_t B = q->ne[0], H = q->ne[1], Lq = q->ne[2];
    // TMA coordinates are 32-bit
    if (Lq >= INT32_MAX - BM || k->ne[2] >= INT32_MAX - BN || H >= INT32_MAX || B >= INT32_MAX) return true;
    if (!sm90_kernel_built(c)) return true;
    CUtensorMap maps[3];
    if (!make_map(&maps[0], q, BM) || !make_map(&maps[1], k, BN) || !make_map(&maps[2], v, BN)) return true;
    fa_args a{};
    a.o = (char *)dst->data;
    a.mask = mask ? (const char *)mask->data : nullptr;
    a.mask_i32 = mask && mask->type == SVG_TYPE_I32;
    if (mask) {
        a.ms[0] = (int64_t)mask->nb[0];
        a.ms[1] = (int64_t)mask->nb[1];
        if (!svg_cuda_mask_keep(c, mask, &a.mask_keep)) return false;
    }
    a.H = H;
    a.Hkv = k->ne[1];
    a.Lq = Lq;
    a.Lk = k->ne[2];
    a.scale_log2 = svg_param_f32(dst, 0) * 1.4426950408889634f;
    a.causal = dst->op_params[1] != 0;
    a.sparse = dst->op_params[2] != 0;
    if (a.sparse) a.band = svg_sparse_load(dst, 3);
    if (Lq == 0 || B == 0 || H == 0) {
        *handled = true;
        return true;
    }
    if (q->type == SVG_TYPE_BF16)
        return D == 128 ? launch_fitting<__nv_bfloat16, 128>(c, maps, a, B, H, Lq, handled)
                        : launch_fitting<__nv_bfloat16, 64>(c, maps, a, B, H, Lq, handled);
    return D == 128 ? launch_fitting<__half, 128>(c, maps, a, B, H, Lq, handled)
                    : launch_fitting<__half, 64>(c, maps, a, B, H, Lq, handled);
}
