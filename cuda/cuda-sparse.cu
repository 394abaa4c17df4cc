// Sparse VideoGen ops on CUDA (semantics in svg.h; the CPU reference is
// src/cpu/cpu-sparse.cpp). The band-masked attention itself runs in the
// attention kernels (cuda-flash-sm90.cu visits only the key tiles under the
// band; the general kernel tests every key).
//
// SPARSE_PERMUTE: y[b, row, h, :] = x[b, src(row), h, :] — for temporal heads
//   the video rows move between frame-major and the temporal order. One
//   thread per 16-byte piece of a row when rows are 16-byte multiples and
//   aligned (memory-bound: one read, one write), else one per element.
// SPARSE_PROFILE: one warp per (b, h, sample): lane l holds q and three
//   output accumulators for head dims l, l+32, …; one pass over the keys
//   updates three online softmaxes (exact, spatial band, temporal band).
//   Each warp writes its two squared errors; a second kernel sums them per
//   (b, h) in sample order (deterministic) and decides.
#include "cuda-common.cuh"

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

bool svg_cuda_sparse_profile(svg_cuda_ctx &c, svg_tensor *dst) {
    const svg_tensor *q = dst->src[0], *k = dst->src[1], *v = dst->src[2], *mask = dst->src[4];
    profile_args a{};
    a.q = (const char *)q->data;
    a.k = (const char *)k->data;
    a.v = (const char *)v->data;
    a.mask = mask ? (const char *)mask->data : nullptr;
    a.tq = q->type;
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
    a.B = q->ne[0];
    a.H = q->ne[1];
    a.L = q->ne[2];
    a.D = q->ne[3];
    a.Hkv = k->ne[1];
    a.Dv = v->ne[3];
    a.scale = svg_param_f32(dst, 0);
    a.rows = dst->op_params[1];
    a.seed = (uint32_t)dst->op_params[2];
    a.m = svg_sparse_load(dst, 3);
    if (a.D > 32 * MAXE || a.Dv > 32 * MAXE)
        return svg_err(false, "CUDA sparse_profile: head dim %lld > %d", (long long)std::max(a.D, a.Dv), 32 * MAXE);
    const int64_t warps = a.B * a.H * a.rows;
    if (warps == 0) return true;
    if (!c.ensure_scratch((size_t)warps * 2 * sizeof(float))) return false;
    a.err = (float *)c.scratch;
    sparse_profile_kernel<<<(unsigned)((warps + 7) / 8), 256, 0, c.stream>>>(a);
    SVG_CUDA_LAUNCHED();
    const int64_t BH = a.B * a.H;
    sparse_decide_kernel<<<svg_cuda_blocks(BH, 128), 128, 0, c.stream>>>((float *)dst->data, a.err, BH, a.rows,
                                                                          1.f / ((float)a.rows * (float)a.Dv));
    SVG_CUDA_LAUNCHED();
    return true;
}
