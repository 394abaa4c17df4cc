// Flash attention forward for Hopper (sm_90a): wgmma tensor cores.
//
// Math (per batch b, head h, kv head g = h / (H/Hkv)):
//   S = scale · Q Kᵀ over one tile of BN keys, online softmax in base 2
//   (m = running row max, l = running row sum), O = O·2^(m_old−m_new) + P V,
//   finally O / l (rows with no visible key stay 0).
//
// Work split: a block owns BM = 64·NWG query rows of one (b, h); each of its
// NWG warpgroups owns 64 rows and issues its own wgmmas:
//   S (64×BN, f32 registers) = Q_wg (smem) · K_tileᵀ (smem)   m64nBNk16 × HD/16
//   O (64×HD, f32 registers) += P (registers, bf16/f16) · V_tile (smem, "transposed")
// The S accumulator layout equals the A-operand register layout, so P never
// touches shared memory.
//
// Shared memory: every [rows × HD] tile is stored as HD/64 column halves of
// [rows × 64] elements (128-byte rows) in the 128-byte swizzle wgmma reads:
// the 16-byte chunk c of row r sits at chunk c ^ (r mod 8). Q stays resident;
// K/V tiles are double-buffered with cp.async (zero-filled past the sequence
// end) so the next tile loads while this one computes.
//
// Descriptors (K-major Q, K): SBO = 1024 B (8 rows of 128 B); a k-step of 16
// elements advances the start address by 32 B inside a half. V is read
// MN-major (imm-trans-b = 1): the two 64-column halves are LBO apart, groups
// of 8 keys SBO = 1024 B apart.
#include "cuda-common.cuh"

#include <cstdlib>
#include <string>
#include <type_traits>

namespace {

struct fa_args {
    const char *q, *k, *v, *mask;
    char *o;
    int64_t qs[3], ks[3], vs[3], ms[2];  // strides (bytes) of b, h, token
    int64_t H, Hkv, Lq, Lk;
    float scale_log2;  // scale · log2(e)
    bool causal;
    int mask_i32;
    uint32_t v_lbo, v_sbo;
};

#if defined(__CUDA_ARCH__) && (__CUDA_ARCH__ >= 900) && defined(__CUDA_ARCH_FEAT_SM90_ALL)
#define SVG_SM90_DEVICE 1
#endif

#ifdef SVG_SM90_DEVICE
__device__ __forceinline__ void wgmma_ss_n128_bf16(float (&d)[64], uint64_t da, uint64_t db, int scale_d) {
    asm volatile(
        "{\n.reg .pred p;\nsetp.ne.b32 p, %66, 0;\n"
        "wgmma.mma_async.sync.aligned.m64n128k16.f32.bf16.bf16 {%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, %16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31, %32, %33, %34, %35, %36, %37, %38, %39, %40, %41, %42, %43, %44, %45, %46, %47, %48, %49, %50, %51, %52, %53, %54, %55, %56, %57, %58, %59, %60, %61, %62, %63}, %64, %65, p, 1, 1, 0, 0;\n}\n"
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]), "+f"(d[7]), "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]), "+f"(d[14]), "+f"(d[15]), "+f"(d[16]), "+f"(d[17]), "+f"(d[18]), "+f"(d[19]), "+f"(d[20]), "+f"(d[21]), "+f"(d[22]), "+f"(d[23]), "+f"(d[24]), "+f"(d[25]), "+f"(d[26]), "+f"(d[27]), "+f"(d[28]), "+f"(d[29]), "+f"(d[30]), "+f"(d[31]), "+f"(d[32]), "+f"(d[33]), "+f"(d[34]), "+f"(d[35]), "+f"(d[36]), "+f"(d[37]), "+f"(d[38]), "+f"(d[39]), "+f"(d[40]), "+f"(d[41]), "+f"(d[42]), "+f"(d[43]), "+f"(d[44]), "+f"(d[45]), "+f"(d[46]), "+f"(d[47]), "+f"(d[48]), "+f"(d[49]), "+f"(d[50]), "+f"(d[51]), "+f"(d[52]), "+f"(d[53]), "+f"(d[54]), "+f"(d[55]), "+f"(d[56]), "+f"(d[57]), "+f"(d[58]), "+f"(d[59]), "+f"(d[60]), "+f"(d[61]), "+f"(d[62]), "+f"(d[63])
        : "l"(da), "l"(db), "r"(scale_d));
}

__device__ __forceinline__ void wgmma_rs_n128_bf16_tb(float (&d)[64], const uint32_t (&a)[4], uint64_t db) {
    asm volatile(
        "{\n.reg .pred p;\nsetp.eq.u32 p, 1, 1;\n"
        "wgmma.mma_async.sync.aligned.m64n128k16.f32.bf16.bf16 {%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, %16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31, %32, %33, %34, %35, %36, %37, %38, %39, %40, %41, %42, %43, %44, %45, %46, %47, %48, %49, %50, %51, %52, %53, %54, %55, %56, %57, %58, %59, %60, %61, %62, %63}, {%64, %65, %66, %67}, %68, p, 1, 1, 1;\n}\n"
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]), "+f"(d[7]), "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]), "+f"(d[14]), "+f"(d[15]), "+f"(d[16]), "+f"(d[17]), "+f"(d[18]), "+f"(d[19]), "+f"(d[20]), "+f"(d[21]), "+f"(d[22]), "+f"(d[23]), "+f"(d[24]), "+f"(d[25]), "+f"(d[26]), "+f"(d[27]), "+f"(d[28]), "+f"(d[29]), "+f"(d[30]), "+f"(d[31]), "+f"(d[32]), "+f"(d[33]), "+f"(d[34]), "+f"(d[35]), "+f"(d[36]), "+f"(d[37]), "+f"(d[38]), "+f"(d[39]), "+f"(d[40]), "+f"(d[41]), "+f"(d[42]), "+f"(d[43]), "+f"(d[44]), "+f"(d[45]), "+f"(d[46]), "+f"(d[47]), "+f"(d[48]), "+f"(d[49]), "+f"(d[50]), "+f"(d[51]), "+f"(d[52]), "+f"(d[53]), "+f"(d[54]), "+f"(d[55]), "+f"(d[56]), "+f"(d[57]), "+f"(d[58]), "+f"(d[59]), "+f"(d[60]), "+f"(d[61]), "+f"(d[62]), "+f"(d[63])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(db));
}

__device__ __forceinline__ void wgmma_rs_n64_bf16_tb(float (&d)[32], const uint32_t (&a)[4], uint64_t db) {
    asm volatile(
        "{\n.reg .pred p;\nsetp.eq.u32 p, 1, 1;\n"
        "wgmma.mma_async.sync.aligned.m64n64k16.f32.bf16.bf16 {%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, %16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31}, {%32, %33, %34, %35}, %36, p, 1, 1, 1;\n}\n"
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]), "+f"(d[7]), "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]), "+f"(d[14]), "+f"(d[15]), "+f"(d[16]), "+f"(d[17]), "+f"(d[18]), "+f"(d[19]), "+f"(d[20]), "+f"(d[21]), "+f"(d[22]), "+f"(d[23]), "+f"(d[24]), "+f"(d[25]), "+f"(d[26]), "+f"(d[27]), "+f"(d[28]), "+f"(d[29]), "+f"(d[30]), "+f"(d[31])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(db));
}

__device__ __forceinline__ void wgmma_ss_n128_f16(float (&d)[64], uint64_t da, uint64_t db, int scale_d) {
    asm volatile(
        "{\n.reg .pred p;\nsetp.ne.b32 p, %66, 0;\n"
        "wgmma.mma_async.sync.aligned.m64n128k16.f32.f16.f16 {%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, %16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31, %32, %33, %34, %35, %36, %37, %38, %39, %40, %41, %42, %43, %44, %45, %46, %47, %48, %49, %50, %51, %52, %53, %54, %55, %56, %57, %58, %59, %60, %61, %62, %63}, %64, %65, p, 1, 1, 0, 0;\n}\n"
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]), "+f"(d[7]), "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]), "+f"(d[14]), "+f"(d[15]), "+f"(d[16]), "+f"(d[17]), "+f"(d[18]), "+f"(d[19]), "+f"(d[20]), "+f"(d[21]), "+f"(d[22]), "+f"(d[23]), "+f"(d[24]), "+f"(d[25]), "+f"(d[26]), "+f"(d[27]), "+f"(d[28]), "+f"(d[29]), "+f"(d[30]), "+f"(d[31]), "+f"(d[32]), "+f"(d[33]), "+f"(d[34]), "+f"(d[35]), "+f"(d[36]), "+f"(d[37]), "+f"(d[38]), "+f"(d[39]), "+f"(d[40]), "+f"(d[41]), "+f"(d[42]), "+f"(d[43]), "+f"(d[44]), "+f"(d[45]), "+f"(d[46]), "+f"(d[47]), "+f"(d[48]), "+f"(d[49]), "+f"(d[50]), "+f"(d[51]), "+f"(d[52]), "+f"(d[53]), "+f"(d[54]), "+f"(d[55]), "+f"(d[56]), "+f"(d[57]), "+f"(d[58]), "+f"(d[59]), "+f"(d[60]), "+f"(d[61]), "+f"(d[62]), "+f"(d[63])
        : "l"(da), "l"(db), "r"(scale_d));
}

__device__ __forceinline__ void wgmma_rs_n128_f16_tb(float (&d)[64], const uint32_t (&a)[4], uint64_t db) {
    asm volatile(
        "{\n.reg .pred p;\nsetp.eq.u32 p, 1, 1;\n"
        "wgmma.mma_async.sync.aligned.m64n128k16.f32.f16.f16 {%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, %16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31, %32, %33, %34, %35, %36, %37, %38, %39, %40, %41, %42, %43, %44, %45, %46, %47, %48, %49, %50, %51, %52, %53, %54, %55, %56, %57, %58, %59, %60, %61, %62, %63}, {%64, %65, %66, %67}, %68, p, 1, 1, 1;\n}\n"
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]), "+f"(d[7]), "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]), "+f"(d[14]), "+f"(d[15]), "+f"(d[16]), "+f"(d[17]), "+f"(d[18]), "+f"(d[19]), "+f"(d[20]), "+f"(d[21]), "+f"(d[22]), "+f"(d[23]), "+f"(d[24]), "+f"(d[25]), "+f"(d[26]), "+f"(d[27]), "+f"(d[28]), "+f"(d[29]), "+f"(d[30]), "+f"(d[31]), "+f"(d[32]), "+f"(d[33]), "+f"(d[34]), "+f"(d[35]), "+f"(d[36]), "+f"(d[37]), "+f"(d[38]), "+f"(d[39]), "+f"(d[40]), "+f"(d[41]), "+f"(d[42]), "+f"(d[43]), "+f"(d[44]), "+f"(d[45]), "+f"(d[46]), "+f"(d[47]), "+f"(d[48]), "+f"(d[49]), "+f"(d[50]), "+f"(d[51]), "+f"(d[52]), "+f"(d[53]), "+f"(d[54]), "+f"(d[55]), "+f"(d[56]), "+f"(d[57]), "+f"(d[58]), "+f"(d[59]), "+f"(d[60]), "+f"(d[61]), "+f"(d[62]), "+f"(d[63])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(db));
}

__device__ __forceinline__ void wgmma_rs_n64_f16_tb(float (&d)[32], const uint32_t (&a)[4], uint64_t db) {
    asm volatile(
        "{\n.reg .pred p;\nsetp.eq.u32 p, 1, 1;\n"
        "wgmma.mma_async.sync.aligned.m64n64k16.f32.f16.f16 {%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, %16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31}, {%32, %33, %34, %35}, %36, p, 1, 1, 1;\n}\n"
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]), "+f"(d[7]), "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]), "+f"(d[14]), "+f"(d[15]), "+f"(d[16]), "+f"(d[17]), "+f"(d[18]), "+f"(d[19]), "+f"(d[20]), "+f"(d[21]), "+f"(d[22]), "+f"(d[23]), "+f"(d[24]), "+f"(d[25]), "+f"(d[26]), "+f"(d[27]), "+f"(d[28]), "+f"(d[29]), "+f"(d[30]), "+f"(d[31])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(db));
}

__device__ __forceinline__ uint64_t smem_desc(uint32_t addr, uint32_t lbo, uint32_t sbo) {
    return (uint64_t)((addr & 0x3FFFF) >> 4) | ((uint64_t)((lbo >> 4) & 0x3FFF) << 16) |
           ((uint64_t)((sbo >> 4) & 0x3FFF) << 32) | (1ull << 62);  // 128-byte swizzle
}

__device__ __forceinline__ void cp_async16(uint32_t dst, const void *src, bool valid) {
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(dst), "l"(src), "r"(valid ? 16 : 0));
}

template <typename T>
__device__ __forceinline__ uint32_t pack2(float lo, float hi);
template <>
__device__ __forceinline__ uint32_t pack2<__nv_bfloat16>(float lo, float hi) {
    __nv_bfloat162 v = __floats2bfloat162_rn(lo, hi);
    return *(uint32_t *)&v;
}
template <>
__device__ __forceinline__ uint32_t pack2<__half>(float lo, float hi) {
    __half2 v = __floats2half2_rn(lo, hi);
    return *(uint32_t *)&v;
}


// Loads rows [row0, row0 + n) of one head (HD elements each, row stride rs)
// into the swizzled halves at smem address dst (half h at dst + h·n·128).
template <int HD>
__device__ __forceinline__ void load_tile(uint32_t dst, const char *base, int64_t rs, int64_t row0, int64_t L, int n,
                                          int tid, int nthreads) {
    constexpr int CHUNKS = HD / 8;  // 16-byte chunks per row
    for (int i = tid; i < n * CHUNKS; i += nthreads) {
        const int r = i / CHUNKS, c = i % CHUNKS;
        const int half = c / 8, cc = c % 8;
        const int64_t row = row0 + r;
        const bool valid = row < L;
        const char *src = base + (valid ? row : 0) * rs + c * 16;
        cp_async16(dst + half * n * 128 + r * 128 + ((cc ^ (r & 7)) << 4), src, valid);
    }
}

#endif  // SVG_SM90_DEVICE

template <typename T, int HD, int NWG>
__global__ void __launch_bounds__(NWG * 128, 1) flash_sm90_kernel(fa_args a) {
#ifdef SVG_SM90_DEVICE
    constexpr int BM = 64 * NWG, BN = 128, NT = NWG * 128;
    constexpr int Q_BYTES = BM * HD * 2, KV_BYTES = BN * HD * 2;
    extern __shared__ __align__(1024) unsigned char smem_raw[];
    // 1024-byte alignment for the swizzle pattern
    const uint32_t smem0 = ((uint32_t)__cvta_generic_to_shared(smem_raw) + 1023) & ~1023u;
    const uint32_t sQ = smem0, sK = sQ + Q_BYTES, sV = sK + 2 * KV_BYTES;

    const int tid = threadIdx.x, wg = tid / 128, wtid = tid % 128, warp = wtid / 32, lane = tid % 32;
    const int64_t b = blockIdx.z, h = blockIdx.y, q0 = (int64_t)blockIdx.x * BM;
    const int64_t g = h / (a.H / a.Hkv);
    const char *qb = a.q + b * a.qs[0] + h * a.qs[1];
    const char *kb = a.k + b * a.ks[0] + g * a.ks[1];
    const char *vb = a.v + b * a.vs[0] + g * a.vs[1];

    // key tiles this block needs (causal: none above the diagonal)
    int64_t n_tiles = (a.Lk + BN - 1) / BN;
    if (a.causal) {
        const int64_t last_visible = q0 + BM - 1 + a.Lk - a.Lq;  // of the block's last row
        n_tiles = last_visible < 0 ? 0 : min(n_tiles, last_visible / BN + 1);
    }

    load_tile<HD>(sQ, qb, a.qs[2], q0, a.Lq, BM, tid, NT);
    if (n_tiles > 0) {
        load_tile<HD>(sK, kb, a.ks[2], 0, a.Lk, BN, tid, NT);
        load_tile<HD>(sV, vb, a.vs[2], 0, a.Lk, BN, tid, NT);
    }
    asm volatile("cp.async.commit_group;\n");

    float o[HD / 2];
#pragma unroll
    for (int i = 0; i < HD / 2; i++) o[i] = 0.f;
    float m0 = -INFINITY, m1 = -INFINITY, l0 = 0.f, l1 = 0.f;
    const int r_lo = warp * 16 + lane / 4;  // this thread's two rows within the warpgroup
    const int64_t qi0 = q0 + wg * 64 + r_lo, qi1 = qi0 + 8;

    for (int64_t kt = 0; kt < n_tiles; kt++) {
        const int stage = (int)(kt & 1);
        if (kt + 1 < n_tiles) {
            const int ns = stage ^ 1;
            load_tile<HD>(sK + ns * KV_BYTES, kb, a.ks[2], (kt + 1) * BN, a.Lk, BN, tid, NT);
            load_tile<HD>(sV + ns * KV_BYTES, vb, a.vs[2], (kt + 1) * BN, a.Lk, BN, tid, NT);
            asm volatile("cp.async.commit_group;\n");
            asm volatile("cp.async.wait_group 1;\n");
        } else {
            asm volatile("cp.async.wait_group 0;\n");
        }
        // cp.async wrote through the generic proxy; wgmma reads via the async proxy
        asm volatile("fence.proxy.async.shared::cta;\n");
        __syncthreads();

        // ---- S = Q Kᵀ
        float s[BN / 2];
        const uint32_t kst = sK + stage * KV_BYTES, vst = sV + stage * KV_BYTES;
        asm volatile("wgmma.fence.sync.aligned;\n");
#pragma unroll
        for (int kk = 0; kk < HD / 16; kk++) {
            const uint32_t half = kk / 4, koff = (kk % 4) * 32;
            const uint64_t da = smem_desc(sQ + half * BM * 128 + wg * 64 * 128 + koff, 16, 1024);
            const uint64_t db = smem_desc(kst + half * BN * 128 + koff, 16, 1024);
            if constexpr (std::is_same<T, __nv_bfloat16>::value) wgmma_ss_n128_bf16(s, da, db, kk);
            else wgmma_ss_n128_f16(s, da, db, kk);
        }
        asm volatile("wgmma.commit_group.sync.aligned;\n");
        asm volatile("wgmma.wait_group.sync.aligned 0;\n" ::: "memory");

        // ---- mask (only tiles that need it), online softmax (base 2)
        const int64_t k0 = kt * BN;
        const bool need_mask = a.mask || k0 + BN > a.Lk || (a.causal && k0 + BN - 1 > q0 + wg * 64 + a.Lk - a.Lq);
        float mx0 = m0, mx1 = m1;
        if (!need_mask) {
#pragma unroll
            for (int j = 0; j < BN / 8; j++) {
                s[j * 4 + 0] *= a.scale_log2;
                s[j * 4 + 1] *= a.scale_log2;
                s[j * 4 + 2] *= a.scale_log2;
                s[j * 4 + 3] *= a.scale_log2;
                mx0 = fmaxf(mx0, fmaxf(s[j * 4 + 0], s[j * 4 + 1]));
                mx1 = fmaxf(mx1, fmaxf(s[j * 4 + 2], s[j * 4 + 3]));
            }
        } else {
#pragma unroll
            for (int j = 0; j < BN / 8; j++)
#pragma unroll
                for (int e = 0; e < 2; e++) {
                    const int64_t kj = k0 + 8 * j + 2 * (lane % 4) + e;
                    bool vis = kj < a.Lk;
                    if (vis && a.mask) {
                        const char *pm = a.mask + b * a.ms[0] + kj * a.ms[1];
                        vis = a.mask_i32 ? *(const int32_t *)pm != 0 : *(const float *)pm != 0.f;
                    }
                    const bool v0 = vis && (!a.causal || kj <= qi0 + a.Lk - a.Lq);
                    const bool v1 = vis && (!a.causal || kj <= qi1 + a.Lk - a.Lq);
                    float &x0 = s[j * 4 + e], &x1 = s[j * 4 + 2 + e];
                    x0 = v0 ? x0 * a.scale_log2 : -INFINITY;
                    x1 = v1 ? x1 * a.scale_log2 : -INFINITY;
                    mx0 = fmaxf(mx0, x0);
                    mx1 = fmaxf(mx1, x1);
                }
        }
        mx0 = fmaxf(mx0, __shfl_xor_sync(0xffffffff, mx0, 1));
        mx0 = fmaxf(mx0, __shfl_xor_sync(0xffffffff, mx0, 2));
        mx1 = fmaxf(mx1, __shfl_xor_sync(0xffffffff, mx1, 1));
        mx1 = fmaxf(mx1, __shfl_xor_sync(0xffffffff, mx1, 2));
        const float base0 = mx0 == -INFINITY ? 0.f : mx0, base1 = mx1 == -INFINITY ? 0.f : mx1;
        const float c0 = exp2f(m0 - base0), c1 = exp2f(m1 - base1);  // m == -inf → 0
        m0 = mx0;
        m1 = mx1;
        float sum0 = 0.f, sum1 = 0.f;
        uint32_t p[BN / 8][2];
#pragma unroll
        for (int j = 0; j < BN / 8; j++) {
            const float p00 = exp2f(s[j * 4 + 0] - base0), p01 = exp2f(s[j * 4 + 1] - base0);
            const float p10 = exp2f(s[j * 4 + 2] - base1), p11 = exp2f(s[j * 4 + 3] - base1);
            sum0 += p00 + p01;
            sum1 += p10 + p11;
            p[j][0] = pack2<T>(p00, p01);
            p[j][1] = pack2<T>(p10, p11);
        }
        l0 = l0 * c0 + sum0;
        l1 = l1 * c1 + sum1;
#pragma unroll
        for (int j = 0; j < HD / 8; j++) {
            o[j * 4 + 0] *= c0;
            o[j * 4 + 1] *= c0;
            o[j * 4 + 2] *= c1;
            o[j * 4 + 3] *= c1;
        }

        // ---- O += P V
        asm volatile("wgmma.fence.sync.aligned;\n");
#pragma unroll
        for (int t = 0; t < BN / 16; t++) {
            const uint32_t af[4] = {p[2 * t][0], p[2 * t][1], p[2 * t + 1][0], p[2 * t + 1][1]};
            const uint64_t db = smem_desc(vst + t * 16 * 128, a.v_lbo, a.v_sbo);
            if constexpr (HD == 128) {
                if constexpr (std::is_same<T, __nv_bfloat16>::value) wgmma_rs_n128_bf16_tb(o, af, db);
                else wgmma_rs_n128_f16_tb(o, af, db);
            } else {
                if constexpr (std::is_same<T, __nv_bfloat16>::value) wgmma_rs_n64_bf16_tb(o, af, db);
                else wgmma_rs_n64_f16_tb(o, af, db);
            }
        }
        asm volatile("wgmma.commit_group.sync.aligned;\n");
        asm volatile("wgmma.wait_group.sync.aligned 0;\n" ::: "memory");
        __syncthreads();  // this stage is refilled next iteration
    }

    // ---- epilogue: O / l → [B, Lq, H, HD]
    l0 += __shfl_xor_sync(0xffffffff, l0, 1);
    l0 += __shfl_xor_sync(0xffffffff, l0, 2);
    l1 += __shfl_xor_sync(0xffffffff, l1, 1);
    l1 += __shfl_xor_sync(0xffffffff, l1, 2);
    const float inv0 = l0 > 0.f ? 1.f / l0 : 0.f, inv1 = l1 > 0.f ? 1.f / l1 : 0.f;
    const int64_t H = a.H;
#pragma unroll
    for (int j = 0; j < HD / 8; j++) {
        const int col = 8 * j + 2 * (lane % 4);
        if (qi0 < a.Lq) *(uint32_t *)(a.o + (((b * a.Lq + qi0) * H + h) * HD + col) * 2) = pack2<T>(o[j * 4] * inv0, o[j * 4 + 1] * inv0);
        if (qi1 < a.Lq) *(uint32_t *)(a.o + (((b * a.Lq + qi1) * H + h) * HD + col) * 2) = pack2<T>(o[j * 4 + 2] * inv1, o[j * 4 + 3] * inv1);
    }
#endif
}

template <typename T, int HD, int NWG>
bool launch(svg_cuda_ctx &c, const fa_args &a, int64_t B, int64_t H, int64_t Lq) {
    constexpr int BM = 64 * NWG;
    const size_t smem = (size_t)BM * HD * 2 + 4 * 128 * HD * 2 + 1024;
    auto kern = flash_sm90_kernel<T, HD, NWG>;
    SVG_CUDA_CHECK(cudaFuncSetAttribute(kern, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)smem));
    const dim3 grid((unsigned)((Lq + BM - 1) / BM), (unsigned)H, (unsigned)B);
    kern<<<grid, NWG * 128, smem, c.stream>>>(a);
    SVG_CUDA_LAUNCHED();
    return true;
}

}  // namespace

bool svg_cuda_flash_attention_sm90(svg_cuda_ctx &c, svg_tensor *dst, bool *handled) {
    *handled = false;
    if (c.cc_major != 9) return true;
    const svg_tensor *q = dst->src[0], *k = dst->src[1], *v = dst->src[2], *mask = dst->src[4];
    if (dst->src[3] || q->type != k->type || q->type != v->type || dst->type != q->type) return true;
    if (q->type != SVG_TYPE_BF16 && q->type != SVG_TYPE_F16) return true;
    const int64_t D = q->ne[3];
    if ((D != 64 && D != 128) || v->ne[3] != D) return true;
    for (const svg_tensor *t : {q, k, v}) {
        if (t->nb[3] != 2 || ((uintptr_t)t->data & 15)) return true;
        for (int i = 0; i < 3; i++)
            if (t->nb[i] % 16) return true;
    }
    fa_args a{};
    a.q = (const char *)q->data;
    a.k = (const char *)k->data;
    a.v = (const char *)v->data;
    a.o = (char *)dst->data;
    a.mask = mask ? (const char *)mask->data : nullptr;
    a.mask_i32 = mask && mask->type == SVG_TYPE_I32;
    if (mask) {
        a.ms[0] = (int64_t)mask->nb[0];
        a.ms[1] = (int64_t)mask->nb[1];
    }
    for (int i = 0; i < 3; i++) {
        // q/k/v are [B, H, L, D]: dims 0, 1, 2
        a.qs[i] = (int64_t)q->nb[i];
        a.ks[i] = (int64_t)k->nb[i];
        a.vs[i] = (int64_t)v->nb[i];
    }
    a.H = q->ne[1];
    a.Hkv = k->ne[1];
    a.Lq = q->ne[2];
    a.Lk = k->ne[2];
    a.scale_log2 = svg_param_f32(dst, 0) * 1.4426950408889634f;
    a.causal = dst->op_params[1] != 0;
    a.v_lbo = 128 * 128;  // distance between the two 64-column halves of a V tile
    a.v_sbo = 1024;
    const int64_t B = q->ne[0], H = q->ne[1], Lq = q->ne[2];
    if (Lq == 0 || B == 0 || H == 0) {
        *handled = true;
        return true;
    }
    *handled = true;
    if (q->type == SVG_TYPE_BF16)
        return D == 128 ? launch<__nv_bfloat16, 128, 2>(c, a, B, H, Lq) : launch<__nv_bfloat16, 64, 2>(c, a, B, H, Lq);
    return D == 128 ? launch<__half, 128, 2>(c, a, B, H, Lq) : launch<__half, 64, 2>(c, a, B, H, Lq);
}
