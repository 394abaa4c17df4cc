// ATTENTION: o[b, i, h, :] = Σ_j softmax_j(scale·q[b,h,i]·k[b,g,j] + bias[b,h,i,j]) v[b,g,j,:]
// with g = h / (H/Hkv), keys dropped where key_mask[b,j] == 0 or (causal)
// j > i + Lk − Lq or (sparse) outside the Sparse VideoGen band mask; a row
// with no visible key is zero.
//
// General path: one warp per query row with an online (streaming) softmax —
// lane l holds q and the output accumulator for head dims l, l+32, ...
// Handles any strides, head dim ≤ 256, bias and masks. The tensor-core flash
// kernel for the model head dims (cuda-flash.cu) is tried first.
#include "cuda-common.cuh"

#include <cstdlib>
#include <string>

namespace {

struct attn_args {
    const char *q, *k, *v, *bias, *mask;
    int tq, tmask;
    int64_t qs[4], ks[4], vs[4], bs[4], ms[2];
    int64_t B, H, Lq, D, Hkv, Lk, Dv;
    float scale;
    bool causal;
    bool sparse;
    svg_sparse_mask band;  // the Sparse VideoGen mask, when sparse
};

constexpr int MAXE = 8;  // head dim ≤ 32·8

template <typename TD>
__global__ void attention_rows_kernel(TD *o, attn_args a) {
    const int lane = threadIdx.x & 31;
    const int64_t row = (int64_t)blockIdx.x * (blockDim.x >> 5) + (threadIdx.x >> 5);
    if (row >= a.B * a.H * a.Lq) return;
    const int64_t i = row % a.Lq, h = (row / a.Lq) % a.H, b = row / (a.Lq * a.H), g = h / (a.H / a.Hkv);
    float qv[MAXE], acc[MAXE];
    const char *pq = a.q + b * a.qs[0] + h * a.qs[1] + i * a.qs[2];
#pragma unroll
    for (int e = 0; e < MAXE; e++) {
        const int64_t d = lane + 32 * e;
        qv[e] = d < a.D ? svg_ld_any(pq + d * a.qs[3], a.tq) : 0.f;
        acc[e] = 0.f;
    }
    float m = -INFINITY, l = 0.f;
    const int64_t j_end = a.causal ? min(a.Lk, i + a.Lk - a.Lq + 1) : a.Lk;
    for (int64_t j = 0; j < j_end; j++) {
        if (a.mask) {
            const char *pm = a.mask + b * a.ms[0] + j * a.ms[1];
            if (a.tmask == SVG_TYPE_I32 ? *(const int32_t *)pm == 0 : *(const float *)pm == 0.f) continue;
        }
        if (a.sparse && !a.band.visible(i, j)) continue;
        const char *pk = a.k + b * a.ks[0] + g * a.ks[1] + j * a.ks[2];
        float dot = 0.f;
#pragma unroll
        for (int e = 0; e < MAXE; e++) {
            const int64_t d = lane + 32 * e;
            if (d < a.D) dot += qv[e] * svg_ld_any(pk + d * a.ks[3], a.tq);
        }
        for (int off = 16; off; off >>= 1) dot += __shfl_xor_sync(0xffffffff, dot, off);
        float s = dot * a.scale;
        if (a.bias) s += *(const float *)(a.bias + b * a.bs[0] + h * a.bs[1] + i * a.bs[2] + j * a.bs[3]);
        const float m_new = fmaxf(m, s);
        const float corr = expf(m - m_new), p = expf(s - m_new);
        l = l * corr + p;
        const char *pv = a.v + b * a.vs[0] + g * a.vs[1] + j * a.vs[2];
#pragma unroll
        for (int e = 0; e < MAXE; e++) {
            const int64_t d = lane + 32 * e;
            acc[e] = acc[e] * corr + (d < a.Dv ? p * svg_ld_any(pv + d * a.vs[3], a.tq) : 0.f);
        }
        m = m_new;
    }
    const float inv = l > 0.f ? 1.f / l : 0.f;
    TD *po = o + ((b * a.Lq + i) * a.H + h) * a.Dv;
#pragma unroll
    for (int e = 0; e < MAXE; e++) {
        const int64_t d = lane + 32 * e;
        if (d < a.Dv) svg_st(po + d, acc[e] * inv);
    }
}

}  // namespace

namespace {

// One block per batch; keep[b] = min j with mask[b, j] == 0, else Lk
// (f32: ±0 masks, as the kernels read it).
__global__ void mask_keep_kernel(const char *mask, int64_t sb, int64_t sk, bool i32, int Lk, int *keep) {
    __shared__ int first;
    if (threadIdx.x == 0) first = Lk;
    __syncthreads();
    const char *m = mask + blockIdx.x * sb;
    for (int j = threadIdx.x; j < Lk; j += blockDim.x) {
        const char *p = m + (int64_t)j * sk;
        if (i32 ? *(const int32_t *)p == 0 : *(const float *)p == 0.f) atomicMin(&first, j);
    }
    __syncthreads();
    if (threadIdx.x == 0) keep[blockIdx.x] = first;
}

}  // namespace

bool svg_cuda_mask_keep(svg_cuda_ctx &c, const svg_tensor *mask, const int **keep) {
    const int64_t B = mask->ne[0], Lk = mask->ne[1];
    if (Lk > INT32_MAX || B > INT32_MAX) return svg_err(false, "CUDA attention: key mask %s too large", svg_shape_string(mask).c_str());
    if (!c.ensure_scratch((size_t)std::max<int64_t>(B, 1) * sizeof(int))) return false;
    if (B > 0)
        mask_keep_kernel<<<(unsigned)B, 1024, 0, c.stream>>>((const char *)mask->data, (int64_t)mask->nb[0], (int64_t)mask->nb[1],
                                                              mask->type == SVG_TYPE_I32, (int)Lk, (int *)c.scratch);
    SVG_CUDA_LAUNCHED();
    *keep = (const int *)c.scratch;
    return true;
}

bool svg_cuda_flash_attention(svg_cuda_ctx &c, svg_tensor *dst, bool *handled);       // cuda-flash.cu
bool svg_cuda_flash_attention_sm90(svg_cuda_ctx &c, svg_tensor *dst, bool *handled);  // cuda-flash-sm90.cu

// Kernel paths: SVG_ATTENTION=auto (default: on Hopper the wgmma/TMA kernel,
// elsewhere the mma.sync one, then the general kernel) | sm90 | mma | simple.
// A path that cannot take a node falls through (sm90 → mma under auto, any →
// the general kernel), so every architecture's path can be tested and timed
// on one card.
bool svg_cuda_attention(svg_cuda_ctx &c, svg_tensor *dst) {
    const char *env = getenv("SVG_ATTENTION");
    const std::string path = env && *env ? env : "auto";
    bool handled = false;
    if ((path == "auto" || path == "sm90") && c.cc_major == 9) {
        if (!svg_cuda_flash_attention_sm90(c, dst, &handled)) return false;
        if (handled) return true;
    }
    if (path == "auto" || path == "mma") {
        if (!svg_cuda_flash_attention(c, dst, &handled)) return false;
        if (handled) return true;
    }
    const svg_tensor *q = dst->src[0], *k = dst->src[1], *v = dst->src[2], *bias = dst->src[3], *mask = dst->src[4];
    attn_args a{};
    a.q = (const char *)q->data;
    a.k = (const char *)k->data;
    a.v = (const char *)v->data;
    a.bias = bias ? (const char *)bias->data : nullptr;
    a.mask = mask ? (const char *)mask->data : nullptr;
    a.tq = q->type;
    a.tmask = mask ? mask->type : 0;
    for (int d = 0; d < 4; d++) {
        a.qs[d] = (int64_t)q->nb[d];
        a.ks[d] = (int64_t)k->nb[d];
        a.vs[d] = (int64_t)v->nb[d];
        a.bs[d] = bias && bias->ne[d] != 1 ? (int64_t)bias->nb[d] : 0;
    }
    if (mask) {
        a.ms[0] = (int64_t)mask->nb[0];
        a.ms[1] = (int64_t)mask->nb[1];
    }
    a.B = q->ne[0]; a.H = q->ne[1]; a.Lq = q->ne[2]; a.D = q->ne[3];
    a.Hkv = k->ne[1]; a.Lk = k->ne[2]; a.Dv = v->ne[3];
    a.scale = svg_param_f32(dst, 0);
    a.causal = dst->op_params[1] != 0;
    a.sparse = dst->op_params[2] != 0;
    if (a.sparse) a.band = svg_sparse_load(dst, 3);
    if (a.D > 32 * MAXE || a.Dv > 32 * MAXE) return svg_err(false, "CUDA attention: head dim %lld > %d", (long long)std::max(a.D, a.Dv), 32 * MAXE);
    const int64_t rows = a.B * a.H * a.Lq;
    if (rows == 0) return true;
    const int warps = 4;
    const unsigned blocks = (unsigned)((rows + warps - 1) / warps);
    switch (dst->type) {
        case SVG_TYPE_F16: attention_rows_kernel<<<blocks, 32 * warps, 0, c.stream>>>((__half *)dst->data, a); break;
        case SVG_TYPE_BF16: attention_rows_kernel<<<blocks, 32 * warps, 0, c.stream>>>((__nv_bfloat16 *)dst->data, a); break;
        default: attention_rows_kernel<<<blocks, 32 * warps, 0, c.stream>>>((float *)dst->data, a); break;
    }
    SVG_CUDA_LAUNCHED();
    return true;
}
