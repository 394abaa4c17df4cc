// Sparse VideoGen ops on CUDA (semantics in svg.h; the CPU reference is
// src/cpu/cpu-sparse.cpp). The band-masked attention itself runs in the
// attention kernels (cuda-flash-sm90.cu visits only the key tiles under the
// band; the general kernel tests every key).
//
// SPARSE_PERMUTE: y[b, row, h, :] = x[b, src(row), h, :] — for temporal heads
//   the video rows move between frame-major and the temporal order. One
//   thread per 16-byte piece of a row when rows are 16-byte multiples and
//   aligned (memory-bound: one read, one write), else one per element.
//
// SPARSE_PROFILE: per (b, h), `rows` sampled query rows i_r each get three
//   attention outputs over all keys j: exact, under the spatial band and
//   under the temporal band (masks in frame-major coordinates, text keys
//   always visible, the key mask applied to all three):
//       O_m[r] = Σ_j P_m[r, j]·v_j / Σ_j P_m[r, j],  P_m = exp(scale·q·k_j) where mask m keeps j
//   err_m[r] = Σ_d (O_m[r, d] − O_exact[r, d])², then a second kernel sums
//   err over r in sample order (deterministic) and decides per (b, h).
//   Fast path (f16/bf16, D = Dv ∈ {64, 128}, 16-byte rows, scale > 0):
//   split-K on tensor cores. Block (chunk c, b·H + h, row group g) takes 64
//   samples and the keys [c·CK, (c+1)·CK): S = Q·Kᵀ per 64-key tile with
//   mma.sync (cuda-mma.cuh), P = exp(S − running exact max) once, and three
//   P·V with P masked per mask (one sum and accumulator per mask, all
//   against the exact max: a mask whose kept keys all score more than ~87
//   (bf16) or ~17 (f16 P) below the row's best key gets O = 0 — it misses
//   the attention either way, and loses the comparison). It writes per (mask, row) the
//   partial (max·scale·log2 e, sum, unnormalized O[Dv]); the combine kernel
//   merges the chunks (flash-decoding) and computes err. K and V are read
//   once per row group: profiling costs about one memory pass over K and V
//   plus 64·L·D·(2 + 3·2) tensor-core FLOPs per (b, h).
//   General path (any float type and head dim ≤ 128): one warp per sample
//   streams all keys itself (lane l holds dims l, l+32, …).
#include "cuda-mma.cuh"

namespace {

// frame-major video row u's source/destination under the temporal order
__device__ __forceinline__ int64_t permuted_source(const svg_sparse_mask &m, int64_t row, bool inverse) {
    const int64_t tb = m.text_before, p = row - tb;
    if (inverse) return tb + m.position(SVG_HEAD_TEMPORAL, p);
    const int64_t sink_rows = m.sink * m.tpf;
    if (p < sink_rows) return row;
    const int64_t rest = m.frames - m.sink, s = (p - sink_rows) / rest, f = m.sink + (p - sink_rows) % rest;
    return tb + f * m.tpf + s;
}

struct permute_args {
    const char *x, *kinds;
    char *y;
    int64_t xs[4], ks[2];  // byte strides: x (b, row, h, d), kinds (b, h)
    int64_t B, L, H, D, esize, piece;  // piece: bytes per thread
    bool inverse;
    svg_sparse_mask m;
};

__global__ void sparse_permute_kernel(permute_args a) {
    const int64_t pieces = a.D * a.esize / a.piece, n = a.B * a.L * a.H * pieces;
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x) {
        const int64_t c = i % pieces, h = (i / pieces) % a.H, row = (i / (pieces * a.H)) % a.L, b = i / (pieces * a.H * a.L);
        int64_t src = row;
        const bool video = row >= a.m.text_before && row < a.m.text_before + a.m.video();
        if (video && *(const float *)(a.kinds + b * a.ks[0] + h * a.ks[1]) >= 0.5f) src = permuted_source(a.m, row, a.inverse);
        const char *from = a.x + b * a.xs[0] + src * a.xs[1] + h * a.xs[2];
        char *to = a.y + (((b * a.L + row) * a.H + h) * a.D) * a.esize + c * a.piece;
        if (a.piece == 16) {
            *(uint4 *)to = *(const uint4 *)(from + c * 16);
        } else {  // one element; its d is c
            for (int64_t e = 0; e < a.esize; e++) to[e] = from[c * a.xs[3] + e];
        }
    }
}

constexpr int MAXE = 4;  // head dim ≤ 128 for profiling

struct profile_args {
    const char *q, *k, *v, *mask;
    int tq, tmask;
    int64_t qs[4], ks[4], vs[4], ms[2];
    int64_t B, H, Hkv, L, D, Dv;
    float scale;
    int rows;
    uint32_t seed;
    svg_sparse_mask m;
    float *err;  // [B, H, rows, 2]
};

__global__ void sparse_profile_kernel(profile_args a) {
    const int lane = threadIdx.x & 31;
    const int64_t w = (int64_t)blockIdx.x * (blockDim.x >> 5) + (threadIdx.x >> 5);
    if (w >= a.B * a.H * a.rows) return;
    const int64_t r = w % a.rows, h = (w / a.rows) % a.H, b = w / (a.rows * a.H), g = h / (a.H / a.Hkv);
    const int64_t tb = a.m.text_before, V = a.m.video();
    const int64_t u = svg_sparse_sample_row(a.seed, b, h, r, V), i = tb + u;
    const int64_t pos_s = a.m.position(SVG_HEAD_SPATIAL, u), pos_t = a.m.position(SVG_HEAD_TEMPORAL, u);
    float qv[MAXE], acc[3][MAXE], mx[3], l[3];
    const char *pq = a.q + b * a.qs[0] + h * a.qs[1] + i * a.qs[2];
#pragma unroll
    for (int e = 0; e < MAXE; e++) {
        const int64_t d = lane + 32 * e;
        qv[e] = d < a.D ? svg_ld_any(pq + d * a.qs[3], a.tq) : 0.f;
#pragma unroll
        for (int mode = 0; mode < 3; mode++) acc[mode][e] = 0.f;
    }
#pragma unroll
    for (int mode = 0; mode < 3; mode++) mx[mode] = -INFINITY, l[mode] = 0.f;
    for (int64_t j = 0; j < a.L; j++) {
        if (a.mask) {
            const char *pm = a.mask + b * a.ms[0] + j * a.ms[1];
            if (a.tmask == SVG_TYPE_I32 ? *(const int32_t *)pm == 0 : *(const float *)pm == 0.f) continue;
        }
        const char *pk = a.k + b * a.ks[0] + g * a.ks[1] + j * a.ks[2];
        float dot = 0.f;
#pragma unroll
        for (int e = 0; e < MAXE; e++) {
            const int64_t d = lane + 32 * e;
            if (d < a.D) dot += qv[e] * svg_ld_any(pk + d * a.ks[3], a.tq);
        }
        for (int off = 16; off; off >>= 1) dot += __shfl_xor_sync(0xffffffff, dot, off);
        const float s = dot * a.scale;
        const int64_t vj = j - tb;
        const bool text = vj < 0 || vj >= V;
        const bool vis[3] = {true, text || a.m.video_visible(pos_s, a.m.position(SVG_HEAD_SPATIAL, vj)),
                             text || a.m.video_visible(pos_t, a.m.position(SVG_HEAD_TEMPORAL, vj))};
        const char *pv = a.v + b * a.vs[0] + g * a.vs[1] + j * a.vs[2];
        float vv[MAXE];
#pragma unroll
        for (int e = 0; e < MAXE; e++) {
            const int64_t d = lane + 32 * e;
            vv[e] = d < a.Dv ? svg_ld_any(pv + d * a.vs[3], a.tq) : 0.f;
        }
#pragma unroll
        for (int mode = 0; mode < 3; mode++) {
            if (!vis[mode]) continue;
            const float m_new = fmaxf(mx[mode], s), corr = expf(mx[mode] - m_new), p = expf(s - m_new);
            l[mode] = l[mode] * corr + p;
#pragma unroll
            for (int e = 0; e < MAXE; e++) acc[mode][e] = acc[mode][e] * corr + p * vv[e];
            mx[mode] = m_new;
        }
    }
    float err[2] = {0.f, 0.f};
#pragma unroll
    for (int e = 0; e < MAXE; e++) {
        const float exact = l[0] > 0.f ? acc[0][e] / l[0] : 0.f;
#pragma unroll
        for (int mode = 1; mode < 3; mode++) {
            const float o = l[mode] > 0.f ? acc[mode][e] / l[mode] : 0.f, diff = o - exact;
            err[mode - 1] += diff * diff;
        }
    }
#pragma unroll
    for (int t = 0; t < 2; t++)
        for (int off = 16; off; off >>= 1) err[t] += __shfl_xor_sync(0xffffffff, err[t], off);
    if (lane == 0) {
        a.err[w * 2 + 0] = err[0];
        a.err[w * 2 + 1] = err[1];
    }
}

// ---- SPARSE_PROFILE fast path (the math is at the top of the file)

constexpr int PROF_WARPS = 8, PROF_THREADS = 32 * PROF_WARPS;
constexpr int PROF_ROWS = 64;  // samples per block: 4 m16 tiles, each taken by two warps (one per half of Dv)
constexpr int PROF_BN = 64;    // keys per tile
// A key of a tile as the masks see it: a video key's positions in the
// spatial (frame-major) and temporal orders; a text key at position −1 in
// both (before the sink rows: visible under every mask); KEY_HIDDEN (past
// the chunk or masked out) visible under none.
constexpr int KEY_HIDDEN = INT_MIN;

struct profile_mma_args {
    const char *q, *k, *v, *mask;
    int64_t qs[3], ks[3], vs[3];  // byte strides of batch, head, token
    int64_t ms[2];                // key mask byte strides (batch, key)
    uint32_t mbits;               // nonzero test: f32 ignores the sign bit
    int H, group, L, rows, row_groups, chunks, chunk_keys;
    float sl;  // scale·log2(e)
    uint32_t seed;
    svg_sparse_mask m;
    float *part;  // [B·H][row_groups][chunks][3 masks][PROF_ROWS][2 + D]: max·sl, sum, O
};

template <int D>
constexpr size_t profile_smem_bytes() {
    return (size_t)(PROF_ROWS + 4 * PROF_BN) * D * 2 + 2 * PROF_BN * sizeof(int2);
}

// Shared memory: Q [64][D] (the group's samples, gathered) | K [2][64][D] |
// V [2][64][D] | key info [2][64] int2. Rows are XOR-swizzled 16-byte chunks
// and read with ldmatrix exactly as in cuda-flash.cu; two cp.async stages,
// one barrier per tile. Warp w owns sample rows 16·(w % 4).. of the group
// and output dims [(w / 4)·D/2, (w / 4 + 1)·D/2): both warps of a row tile
// compute its S (cheap), each keeps three f32 accumulators of D/2 columns.
template <typename T, int D>
__global__ void __launch_bounds__(PROF_THREADS) sparse_profile_mma_kernel(const profile_mma_args a) {
    constexpr int CH = D / 8, ROW = D * 2, TILE = PROF_BN * ROW;
    constexpr int NT = PROF_BN / 8;  // n8 tiles of S
    constexpr int DTH = D / 16;      // n8 tiles of a warp's half of O
    constexpr int CSTEP = PROF_THREADS / CH;
    static_assert(PROF_ROWS % CSTEP == 0 && PROF_BN % CSTEP == 0 && CSTEP % 8 == 0, "copy split");

    extern __shared__ __align__(128) char smem[];
    const uint32_t sQ = (uint32_t)__cvta_generic_to_shared(smem);
    const uint32_t sK = sQ + PROF_ROWS * ROW, sV = sK + 2 * TILE;
    int2 *keys = reinterpret_cast<int2 *>(smem + (PROF_ROWS + 4 * PROF_BN) * ROW);

    const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5, mt = warp & 3, half = warp >> 2;
    const int chunk = blockIdx.x, bh = blockIdx.y, grp = blockIdx.z;
    const int b = bh / a.H, h = bh % a.H;
    const int64_t V = a.m.video(), tb = a.m.text_before;
    const int j_begin = chunk * a.chunk_keys, j_end = min(a.L, j_begin + a.chunk_keys);
    const int ntiles = (j_end - j_begin + PROF_BN - 1) / PROF_BN;

    const char *qg = a.q + b * a.qs[0] + h * a.qs[1];
    const char *kg = a.k + b * a.ks[0] + (h / a.group) * a.ks[1];
    const char *vg = a.v + b * a.vs[0] + (h / a.group) * a.vs[1];
    const char *mg = a.mask ? a.mask + b * a.ms[0] : nullptr;

    // copy split: thread tid moves chunk tid % CH of rows tid / CH + i·CSTEP
    const int cr = tid / CH, cc = tid % CH;
    const uint32_t c_dst = cr * ROW + ((cc ^ (cr & 7)) << 4);
#pragma unroll
    for (int i = 0; i < PROF_ROWS / CSTEP; i++) {
        const int sample = grp * PROF_ROWS + cr + i * CSTEP;
        const bool ok = sample < a.rows;
        const int64_t row = ok ? tb + svg_sparse_sample_row(a.seed, b, h, sample, V) : 0;
        cp_async16(sQ + c_dst + i * CSTEP * ROW, qg + row * a.qs[2] + cc * 16, ok);
    }
    auto load_tile = [&](int n, int st) {
        const int j0 = j_begin + n * PROF_BN;
#pragma unroll
        for (int i = 0; i < PROF_BN / CSTEP; i++) {
            const int j = j0 + cr + i * CSTEP;
            const bool ok = j < j_end;  // zero-filled past the chunk: P = 0 never meets garbage V
            cp_async16(sK + st * TILE + c_dst + i * CSTEP * ROW, kg + (ok ? j * a.ks[2] : 0) + cc * 16, ok);
            cp_async16(sV + st * TILE + c_dst + i * CSTEP * ROW, vg + (ok ? j * a.vs[2] : 0) + cc * 16, ok);
        }
        if (tid < PROF_BN) {
            const int j = j0 + tid;
            int2 info = make_int2(KEY_HIDDEN, KEY_HIDDEN);
            if (j < j_end && (!mg || (*(const uint32_t *)(mg + j * a.ms[1]) & a.mbits) != 0)) {
                const int64_t vj = j - tb;
                info = vj < 0 || vj >= V ? make_int2(-1, -1) : make_int2((int)vj, (int)a.m.position(SVG_HEAD_TEMPORAL, vj));
            }
            keys[st * PROF_BN + tid] = info;
        }
    };
    load_tile(0, 0);
    cp_async_commit();

    // this thread's two sample rows (g and g + 8 of its m16 tile): positions
    // under both head orders
    int pos_s[2], pos_t[2];
#pragma unroll
    for (int hh = 0; hh < 2; hh++) {
        const int sample = min(grp * PROF_ROWS + mt * 16 + (lane >> 2) + 8 * hh, a.rows - 1);
        const int64_t u = svg_sparse_sample_row(a.seed, b, h, sample, V);
        pos_s[hh] = (int)u;
        pos_t[hh] = (int)a.m.position(SVG_HEAD_TEMPORAL, u);
    }
    // |pi − pj| ≤ band as one unsigned compare (positions < 2^30, band ≤ V)
    const int sink_rows = (int)(a.m.sink * a.m.tpf), band = (int)min(a.m.band, V);
    auto near = [&](int pi, int pj) { return pj < sink_rows || (unsigned)(pi - pj + band) <= 2u * (unsigned)band; };

    const int xq = (lane >> 4) ^ (lane & 7), xk = ((lane >> 3) & 1) ^ (lane & 7);
    const uint32_t q_lane = sQ + (mt * 16 + (lane & 15)) * ROW;
    const uint32_t k_lane = sK + ((lane & 7) + 8 * (lane >> 4)) * ROW;
    const uint32_t v_lane = sV + (lane & 15) * ROW;

    // three accumulators and sums (exact, spatial, temporal) against one
    // running max, the exact one
    float o[3][DTH][4], l[3][2], mx[2] = {-INFINITY, -INFINITY};
#pragma unroll
    for (int md = 0; md < 3; md++) {
#pragma unroll
        for (int dt = 0; dt < DTH; dt++)
#pragma unroll
            for (int e = 0; e < 4; e++) o[md][dt][e] = 0.f;
#pragma unroll
        for (int hh = 0; hh < 2; hh++) l[md][hh] = 0.f;
    }

    for (int n = 0; n < ntiles; n++) {
        const int st = n & 1;
        cp_async_wait_0();
        __syncthreads();
        if (n + 1 < ntiles) {
            load_tile(n + 1, st ^ 1);
            cp_async_commit();
        }

        float s[NT][4];
#pragma unroll
        for (int nt = 0; nt < NT; nt++)
#pragma unroll
            for (int e = 0; e < 4; e++) s[nt][e] = 0.f;
#pragma unroll
        for (int ks = 0; ks < D / 16; ks++) {
            uint32_t qa[4];
            ldsm_x4(qa, q_lane + (((2 * ks) ^ xq) << 4));
#pragma unroll
            for (int p = 0; p < NT / 2; p++) {
                uint32_t kb[4];
                ldsm_x4(kb, k_lane + st * TILE + p * 16 * ROW + (((2 * ks) ^ xk) << 4));
                mma16816<T>(s[2 * p], qa, kb[0], kb[1]);
                mma16816<T>(s[2 * p + 1], qa, kb[2], kb[3]);
            }
        }

        // which of the 32 scores (bit 4·nt + 2·hh + e) each mask keeps
        uint32_t kept[3] = {0u, 0u, 0u};
#pragma unroll
        for (int nt = 0; nt < NT; nt++)
#pragma unroll
            for (int e = 0; e < 2; e++) {
                const int2 key = keys[st * PROF_BN + nt * 8 + 2 * (lane & 3) + e];
                if (key.x == KEY_HIDDEN) continue;
#pragma unroll
                for (int hh = 0; hh < 2; hh++) {
                    const uint32_t bit = 1u << (4 * nt + 2 * hh + e);
                    kept[0] |= bit;
                    if (near(pos_s[hh], key.x)) kept[1] |= bit;
                    if (near(pos_t[hh], key.y)) kept[2] |= bit;
                }
            }

        // the exact row max; O and l of all three rescaled to it
        float mu[2];
#pragma unroll
        for (int hh = 0; hh < 2; hh++) {
            float t = mx[hh];
#pragma unroll
            for (int nt = 0; nt < NT; nt++)
#pragma unroll
                for (int e = 0; e < 2; e++)
                    if (kept[0] >> (4 * nt + 2 * hh + e) & 1u) t = fmaxf(t, s[nt][2 * hh + e]);
            t = fmaxf(t, __shfl_xor_sync(0xffffffffu, t, 1));
            t = fmaxf(t, __shfl_xor_sync(0xffffffffu, t, 2));
            const float alpha = t == -INFINITY ? 1.f : ex2((mx[hh] - t) * a.sl);  // 0 while mx is −∞
            mx[hh] = t;
            mu[hh] = t == -INFINITY ? 0.f : t * a.sl;
#pragma unroll
            for (int md = 0; md < 3; md++) {
                l[md][hh] *= alpha;
#pragma unroll
                for (int dt = 0; dt < DTH; dt++) {
                    o[md][dt][2 * hh] *= alpha;
                    o[md][dt][2 * hh + 1] *= alpha;
                }
            }
        }

        // O_m += P_m·V over this warp's half of the columns, P_m = P where mask m keeps the key
#pragma unroll
        for (int kk = 0; kk < PROF_BN / 16; kk++) {
            float p[2][2][2];  // [n tile 2kk + i][hh][e]
#pragma unroll
            for (int i = 0; i < 2; i++)
#pragma unroll
                for (int hh = 0; hh < 2; hh++)
#pragma unroll
                    for (int e = 0; e < 2; e++) {
                        const int nt = 2 * kk + i;
                        p[i][hh][e] = kept[0] >> (4 * nt + 2 * hh + e) & 1u ? ex2(fmaf(s[nt][2 * hh + e], a.sl, -mu[hh])) : 0.f;
                    }
            uint32_t pa[3][4];
#pragma unroll
            for (int md = 0; md < 3; md++) {
                float pm[2][2][2];
#pragma unroll
                for (int i = 0; i < 2; i++)
#pragma unroll
                    for (int hh = 0; hh < 2; hh++)
#pragma unroll
                        for (int e = 0; e < 2; e++) {
                            pm[i][hh][e] = kept[md] >> (4 * (2 * kk + i) + 2 * hh + e) & 1u ? p[i][hh][e] : 0.f;
                            l[md][hh] += pm[i][hh][e];
                        }
                pa[md][0] = pack2<T>(pm[0][0][0], pm[0][0][1]);
                pa[md][1] = pack2<T>(pm[0][1][0], pm[0][1][1]);
                pa[md][2] = pack2<T>(pm[1][0][0], pm[1][0][1]);
                pa[md][3] = pack2<T>(pm[1][1][0], pm[1][1][1]);
            }
#pragma unroll
            for (int dp = 0; dp < DTH / 2; dp++) {
                uint32_t vb[4];
                ldsm_x4_trans(vb, v_lane + st * TILE + kk * 16 * ROW + (((half * (D / 16) + 2 * dp) ^ xq) << 4));
#pragma unroll
                for (int md = 0; md < 3; md++) {
                    mma16816<T>(o[md][2 * dp], pa[md], vb[0], vb[1]);
                    mma16816<T>(o[md][2 * dp + 1], pa[md], vb[2], vb[3]);
                }
            }
        }
    }

    // partials of this chunk: (max·sl, sum, unnormalized O) per mask and row
    constexpr int REC = 2 + D;
    float *part = a.part + (((int64_t)bh * a.row_groups + grp) * a.chunks + chunk) * 3 * PROF_ROWS * REC;
#pragma unroll
    for (int md = 0; md < 3; md++)
#pragma unroll
        for (int hh = 0; hh < 2; hh++) {
            float sum = l[md][hh];
            sum += __shfl_xor_sync(0xffffffffu, sum, 1);
            sum += __shfl_xor_sync(0xffffffffu, sum, 2);
            float *rec = part + (md * PROF_ROWS + mt * 16 + (lane >> 2) + 8 * hh) * REC;
            if (half == 0 && (lane & 3) == 0) {
                rec[0] = mx[hh] * a.sl;  // −∞: no key of the chunk kept
                rec[1] = sum;
            }
#pragma unroll
            for (int dt = 0; dt < DTH; dt++)
                *reinterpret_cast<float2 *>(rec + 2 + half * (D / 2) + dt * 8 + 2 * (lane & 3)) =
                    make_float2(o[md][dt][2 * hh], o[md][dt][2 * hh + 1]);
        }
}

// One warp per (b·H + h, sample): merges the chunks' partials of each mask
// (flash-decoding: weights 2^(m_c − max_c m_c)) and writes the sample's two
// squared errors, as sparse_profile_kernel does.
template <int D>
__global__ void sparse_profile_combine_kernel(const float *part, float *err, int64_t BH, int rows, int row_groups, int chunks) {
    constexpr int REC = 2 + D, E = D / 32;
    const int lane = threadIdx.x & 31;
    const int64_t w = (int64_t)blockIdx.x * (blockDim.x >> 5) + (threadIdx.x >> 5);
    if (w >= BH * rows) return;
    const int64_t bh = w / rows;
    const int sample = (int)(w % rows), grp = sample / PROF_ROWS, row = sample % PROF_ROWS;
    const int64_t cstride = 3 * PROF_ROWS * REC;
    float out[3][E];
#pragma unroll
    for (int md = 0; md < 3; md++) {
        const float *rec = part + ((bh * row_groups + grp) * chunks * 3 + md) * PROF_ROWS * REC + row * REC;
        float mmax = -INFINITY;
        for (int c = 0; c < chunks; c++) mmax = fmaxf(mmax, rec[c * cstride]);
        float sum = 0.f, acc[E];
#pragma unroll
        for (int e = 0; e < E; e++) acc[e] = 0.f;
        for (int c = 0; c < chunks && mmax != -INFINITY; c++) {
            const float *r = rec + c * cstride;
            if (r[0] == -INFINITY) continue;
            const float wt = exp2f(r[0] - mmax);
            sum += wt * r[1];
#pragma unroll
            for (int e = 0; e < E; e++) acc[e] += wt * r[2 + lane + 32 * e];
        }
#pragma unroll
        for (int e = 0; e < E; e++) out[md][e] = sum > 0.f ? acc[e] / sum : 0.f;
    }
    float e2[2] = {0.f, 0.f};
#pragma unroll
    for (int e = 0; e < E; e++)
#pragma unroll
        for (int md = 1; md < 3; md++) {
            const float d = out[md][e] - out[0][e];
            e2[md - 1] += d * d;
        }
#pragma unroll
    for (int t = 0; t < 2; t++)
        for (int off = 16; off; off >>= 1) e2[t] += __shfl_xor_sync(0xffffffffu, e2[t], off);
    if (lane == 0) {
        err[w * 2 + 0] = e2[0];
        err[w * 2 + 1] = e2[1];
    }
}

// out[b, h] = (temporal?, mse_spatial, mse_temporal), samples summed in order
__global__ void sparse_decide_kernel(float *out, const float *err, int64_t BH, int rows, float inv_n) {
    const int64_t t = blockIdx.x * (int64_t)blockDim.x + threadIdx.x;
    if (t >= BH) return;
    double s = 0, tt = 0;
    for (int r = 0; r < rows; r++) {
        s += err[(t * rows + r) * 2];
        tt += err[(t * rows + r) * 2 + 1];
    }
    const float ms = (float)(s * inv_n), mt = (float)(tt * inv_n);
    out[t * 3 + 0] = mt < ms ? (float)SVG_HEAD_TEMPORAL : (float)SVG_HEAD_SPATIAL;
    out[t * 3 + 1] = ms;
    out[t * 3 + 2] = mt;
}

}  // namespace

bool svg_cuda_sparse_permute(svg_cuda_ctx &c, svg_tensor *dst) {
    const svg_tensor *x = dst->src[0], *kinds = dst->src[1];
    permute_args a{};
    a.x = (const char *)x->data;
    a.kinds = (const char *)kinds->data;
    a.y = (char *)dst->data;
    for (int d = 0; d < 4; d++) a.xs[d] = (int64_t)x->nb[d];
    a.ks[0] = (int64_t)kinds->nb[0];
    a.ks[1] = (int64_t)kinds->nb[1];
    a.B = x->ne[0];
    a.L = x->ne[1];
    a.H = x->ne[2];
    a.D = x->ne[3];
    a.esize = (int64_t)svg_type_traits_of(x->type)->type_size;
    a.inverse = dst->op_params[0] != 0;
    a.m = svg_sparse_load(dst, 3);
    const bool vec = a.xs[3] == a.esize && (a.D * a.esize) % 16 == 0 && a.xs[0] % 16 == 0 && a.xs[1] % 16 == 0 &&
                     a.xs[2] % 16 == 0 && (uintptr_t)a.x % 16 == 0 && (uintptr_t)a.y % 16 == 0;
    a.piece = vec ? 16 : a.esize;
    const int64_t n = a.B * a.L * a.H * (a.D * a.esize / a.piece);
    if (n == 0) return true;
    sparse_permute_kernel<<<svg_cuda_blocks(n, 256), 256, 0, c.stream>>>(a);
    SVG_CUDA_LAUNCHED();
    return true;
}

namespace {

bool aligned16(const svg_tensor *t) { return ((uintptr_t)t->data | t->nb[0] | t->nb[1] | t->nb[2]) % 16 == 0; }

// The tensor-core path, when the node is one it covers (*handled): the
// per-sample errors land at the start of c.scratch.
template <typename T, int D>
bool profile_mma(svg_cuda_ctx &c, const svg_tensor *dst, bool *handled) {
    constexpr size_t smem = profile_smem_bytes<D>();
    if (smem > c.smem_optin) return true;
    const svg_tensor *q = dst->src[0], *k = dst->src[1], *v = dst->src[2], *mask = dst->src[4];
    profile_mma_args a{};
    a.q = (const char *)q->data;
    a.k = (const char *)k->data;
    a.v = (const char *)v->data;
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
    }
    const int64_t B = q->ne[0], BH = B * q->ne[1];
    a.H = (int)q->ne[1];
    a.group = (int)(q->ne[1] / k->ne[1]);
    a.L = (int)q->ne[2];
    a.rows = dst->op_params[1];
    a.row_groups = (a.rows + PROF_ROWS - 1) / PROF_ROWS;
    // split the keys so that about two blocks per SM run (one fits at a time:
    // 256 threads of three accumulators each)
    const int64_t tiles = (a.L + PROF_BN - 1) / PROF_BN, want = 2 * (int64_t)std::max(c.n_sm, 1);
    const int64_t chunks = std::min(tiles, std::max<int64_t>(1, (want + BH * a.row_groups - 1) / (BH * a.row_groups)));
    a.chunk_keys = (int)(((tiles + chunks - 1) / chunks) * PROF_BN);
    a.chunks = (a.L + a.chunk_keys - 1) / a.chunk_keys;  // every chunk holds keys
    a.sl = svg_param_f32(dst, 0) * 1.4426950408889634f;
    a.seed = (uint32_t)dst->op_params[2];
    a.m = svg_sparse_load(dst, 3);
    if (BH > 65535 || a.row_groups > 65535) return true;
    *handled = true;
    const size_t err_bytes = ((size_t)BH * a.rows * 2 * sizeof(float) + 255) / 256 * 256;
    const size_t part_bytes = (size_t)BH * a.row_groups * a.chunks * 3 * PROF_ROWS * (2 + D) * sizeof(float);
    if (!c.ensure_scratch(err_bytes + part_bytes)) return false;
    float *err = (float *)c.scratch;
    a.part = (float *)((char *)c.scratch + err_bytes);
    auto kernel = sparse_profile_mma_kernel<T, D>;
    SVG_CUDA_CHECK(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)smem));
    kernel<<<dim3((unsigned)a.chunks, (unsigned)BH, (unsigned)a.row_groups), PROF_THREADS, smem, c.stream>>>(a);
    SVG_CUDA_LAUNCHED();
    const int64_t warps = BH * a.rows;
    sparse_profile_combine_kernel<D><<<(unsigned)((warps + 7) / 8), 256, 0, c.stream>>>(a.part, err, BH, a.rows, a.row_groups, a.chunks);
    SVG_CUDA_LAUNCHED();
    return true;
}

}  // namespace

bool svg_cuda_sparse_profile(svg_cuda_ctx &c, svg_tensor *dst) {
    const svg_tensor *q = dst->src[0], *k = dst->src[1], *v = dst->src[2], *mask = dst->src[4];
    const int64_t B = q->ne[0], H = q->ne[1], L = q->ne[2], D = q->ne[3], Dv = v->ne[3], rows = dst->op_params[1];
    if (D > 32 * MAXE || Dv > 32 * MAXE)
        return svg_err(false, "CUDA sparse_profile: head dim %lld > %d", (long long)std::max(D, Dv), 32 * MAXE);
    const int64_t BH = B * H;
    if (BH * rows == 0) return true;
    const float scale = svg_param_f32(dst, 0);
    bool handled = false;
    const enum svg_type t = q->type;
    if ((t == SVG_TYPE_BF16 || t == SVG_TYPE_F16) && k->type == t && v->type == t && D == Dv && (D == 64 || D == 128) &&
        q->nb[3] == 2 && k->nb[3] == 2 && v->nb[3] == 2 && aligned16(q) && aligned16(k) && aligned16(v) && scale > 0.f &&
        std::isfinite(scale) && L < INT32_MAX / 2 && (!mask || svg_type_traits_of(mask->type)->type_size == 4)) {
        const bool ok = t == SVG_TYPE_BF16 ? (D == 64 ? profile_mma<__nv_bfloat16, 64>(c, dst, &handled)
                                                      : profile_mma<__nv_bfloat16, 128>(c, dst, &handled))
                                           : (D == 64 ? profile_mma<__half, 64>(c, dst, &handled)
                                                      : profile_mma<__half, 128>(c, dst, &handled));
        if (!ok) return false;
    }
    if (!handled) {
        profile_args a{};
        a.q = (const char *)q->data;
        a.k = (const char *)k->data;
        a.v = (const char *)v->data;
        a.mask = mask ? (const char *)mask->data : nullptr;
        a.tq = t;
        a.tmask = mask ? mask->type : 0;
        for (int d = 0; d < 4; d++) {
            a.qs[d] = (int64_t)q->nb[d];
            a.ks[d] = (int64_t)k->nb[d];
            a.vs[d] = (int64_t)v->nb[d];
        }
        if (mask) {
            a.ms[0] = (int64_t)mask->nb[0];
            a.ms[1] = (int64_t)mask->nb[1];
        }
        a.B = B;
        a.H = H;
        a.L = L;
        a.D = D;
        a.Hkv = k->ne[1];
        a.Dv = Dv;
        a.scale = scale;
        a.rows = (int)rows;
        a.seed = (uint32_t)dst->op_params[2];
        a.m = svg_sparse_load(dst, 3);
        const int64_t warps = BH * rows;
        if (!c.ensure_scratch((size_t)warps * 2 * sizeof(float))) return false;
        a.err = (float *)c.scratch;
        sparse_profile_kernel<<<(unsigned)((warps + 7) / 8), 256, 0, c.stream>>>(a);
        SVG_CUDA_LAUNCHED();
    }
    sparse_decide_kernel<<<svg_cuda_blocks(BH, 128), 128, 0, c.stream>>>((float *)dst->data, (const float *)c.scratch, BH,
                                                                          (int)rows, 1.f / ((float)rows * (float)Dv));
    SVG_CUDA_LAUNCHED();
    return true;
}
