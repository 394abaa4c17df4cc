// Normalization: layer/RMS norm over a dim range with affine and fused adaLN
// modulation (y = norm(x)·w + b, then y·(1 + scale) + shift), group norm.
// Rows the row pass takes (cuda-rows.cu: innermost normalized dims, N % 8
// == 0, 16-byte aligned) run there, read once and written once; the kernels
// here are the general layouts (any N, a norm over middle dims), f32
// statistics in two passes over the row (the second hits L1/L2).
#include "cuda-common.cuh"

namespace {

__device__ __forceinline__ float block_sum(float v, float *red) {
    for (int o = 16; o; o >>= 1) v += __shfl_xor_sync(0xffffffff, v, o);
    __syncthreads();  // red may still be read from a previous call
    if ((threadIdx.x & 31) == 0) red[threadIdx.x >> 5] = v;
    __syncthreads();
    float s = 0;
    for (int w = 0; w < (int)(blockDim.x >> 5); w++) s += red[w];
    return s;
}

struct norm_args {
    const char *x, *w, *b, *scale, *shift;
    int tx, tw, tb, tsc, tsh;
    svg_cuda_shape ssc, ssh;  // modulation in x's index space
    bool rms, row_mod;
    float eps;
    int64_t N, inner;
};

// inner == 1: one block per row of N contiguous elements
template <typename TD>
__global__ void norm_rows_kernel(TD *y, norm_args a) {
    __shared__ float red[32];
    const int64_t row = blockIdx.x;
    const char *x = a.x + row * a.N * (a.tx == SVG_TYPE_F32 ? 4 : 2);
    const int xs = a.tx == SVG_TYPE_F32 ? 4 : 2;
    float mean = 0;
    if (!a.rms) {
        float s = 0;
        for (int64_t k = threadIdx.x; k < a.N; k += blockDim.x) s += svg_ld_any(x + k * xs, a.tx);
        mean = block_sum(s, red) / (float)a.N;
    }
    float s2 = 0;
    for (int64_t k = threadIdx.x; k < a.N; k += blockDim.x) {
        const float d = svg_ld_any(x + k * xs, a.tx) - mean;
        s2 += d * d;
    }
    const float rstd = rsqrtf(block_sum(s2, red) / (float)a.N + a.eps);
    const int64_t e0 = row * a.N;
    int64_t sc0 = 0, sh0 = 0, scs = 0, shs = 0;
    if (a.row_mod) {
        if (a.scale) sc0 = svg_cuda_offset(a.ssc, e0), scs = a.ssc.nb[a.ssc.n - 1];
        if (a.shift) sh0 = svg_cuda_offset(a.ssh, e0), shs = a.ssh.nb[a.ssh.n - 1];
    }
    for (int64_t k = threadIdx.x; k < a.N; k += blockDim.x) {
        float v = (svg_ld_any(x + k * xs, a.tx) - mean) * rstd;
        if (a.w) v *= svg_ld_any(a.w + k * (a.tw == SVG_TYPE_F32 ? 4 : 2), a.tw);
        if (a.b) v += svg_ld_any(a.b + k * (a.tb == SVG_TYPE_F32 ? 4 : 2), a.tb);
        if (a.scale) v *= 1.0f + svg_ld_any(a.scale + (a.row_mod ? sc0 + k * scs : svg_cuda_offset(a.ssc, e0 + k)), a.tsc);
        if (a.shift) v += svg_ld_any(a.shift + (a.row_mod ? sh0 + k * shs : svg_cuda_offset(a.ssh, e0 + k)), a.tsh);
        svg_st(y + e0 + k, v);
    }
}

// inner > 1: one thread per (outer, inner) column, strided over N
template <typename TD>
__global__ void norm_cols_kernel(TD *y, norm_args a, int64_t n_cols) {
    const int xs = a.tx == SVG_TYPE_F32 ? 4 : 2;
    for (int64_t p = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; p < n_cols; p += (int64_t)gridDim.x * blockDim.x) {
        const int64_t o = p / a.inner, in = p % a.inner;
        const int64_t base = o * a.N * a.inner + in;
        float mean = 0;
        if (!a.rms) {
            for (int64_t k = 0; k < a.N; k++) mean += svg_ld_any(a.x + (base + k * a.inner) * xs, a.tx);
            mean /= (float)a.N;
        }
        float s2 = 0;
        for (int64_t k = 0; k < a.N; k++) {
            const float d = svg_ld_any(a.x + (base + k * a.inner) * xs, a.tx) - mean;
            s2 += d * d;
        }
        const float rstd = rsqrtf(s2 / (float)a.N + a.eps);
        for (int64_t k = 0; k < a.N; k++) {
            const int64_t e = base + k * a.inner;
            float v = (svg_ld_any(a.x + e * xs, a.tx) - mean) * rstd;
            if (a.w) v *= svg_ld_any(a.w + k * (a.tw == SVG_TYPE_F32 ? 4 : 2), a.tw);
            if (a.b) v += svg_ld_any(a.b + k * (a.tb == SVG_TYPE_F32 ? 4 : 2), a.tb);
            if (a.scale) v *= 1.0f + svg_ld_any(a.scale + svg_cuda_offset(a.ssc, e), a.tsc);
            if (a.shift) v += svg_ld_any(a.shift + svg_cuda_offset(a.ssh, e), a.tsh);
            svg_st(y + e, v);
        }
    }
}

// one block per (batch, group): a contiguous block of C/G channels × S
template <typename TD>
__global__ void group_norm_kernel(TD *y, const char *x, int tx, const char *w, int tw, const char *b, int tb,
                                  int64_t C, int64_t G, int64_t S, float eps) {
    __shared__ float red[32];
    const int64_t bg = blockIdx.x, g = bg % G;
    const int64_t cg = C / G, n = cg * S, base = bg * n;
    const int xs = tx == SVG_TYPE_F32 ? 4 : 2;
    float s = 0;
    for (int64_t i = threadIdx.x; i < n; i += blockDim.x) s += svg_ld_any(x + (base + i) * xs, tx);
    const float mean = block_sum(s, red) / (float)n;
    float s2 = 0;
    for (int64_t i = threadIdx.x; i < n; i += blockDim.x) {
        const float d = svg_ld_any(x + (base + i) * xs, tx) - mean;
        s2 += d * d;
    }
    const float rstd = rsqrtf(block_sum(s2, red) / (float)n + eps);
    for (int64_t i = threadIdx.x; i < n; i += blockDim.x) {
        const int64_t ch = g * cg + i / S;
        float v = (svg_ld_any(x + (base + i) * xs, tx) - mean) * rstd;
        if (w) v *= svg_ld_any(w + ch * (tw == SVG_TYPE_F32 ? 4 : 2), tw);
        if (b) v += svg_ld_any(b + ch * (tb == SVG_TYPE_F32 ? 4 : 2), tb);
        svg_st(y + base + i, v);
    }
}

template <typename TD>
bool launch_norm(svg_cuda_ctx &c, svg_tensor *dst, norm_args &a, int64_t outer) {
    TD *y = (TD *)dst->data;
    if (a.inner == 1) {
        if (outer > 0x7fffffff) return svg_err(false, "CUDA norm: too many rows");
        const int threads = a.N >= 1024 ? 512 : a.N >= 256 ? 256 : 128;
        norm_rows_kernel<<<(unsigned)outer, threads, 0, c.stream>>>(y, a);
    } else {
        const int64_t n_cols = outer * a.inner;
        norm_cols_kernel<<<svg_cuda_blocks(n_cols, 128), 128, 0, c.stream>>>(y, a, n_cols);
    }
    SVG_CUDA_LAUNCHED();
    return true;
}

}  // namespace

bool svg_cuda_norm(svg_cuda_ctx &c, svg_tensor *dst) {
    svg_row_args ra;
    if (svg_row_args_norm(dst, &ra)) return svg_row_pass(c, ra);
    const svg_tensor *x = dst->src[0], *w = dst->src[1], *b = dst->src[2], *sc = dst->src[3], *sh = dst->src[4];
    const int dim0 = dst->op_params[1], nd = dst->op_params[2];
    norm_args a{};
    a.x = (const char *)x->data;
    a.tx = x->type;
    a.w = w ? (const char *)w->data : nullptr;
    a.tw = w ? w->type : 0;
    a.b = b ? (const char *)b->data : nullptr;
    a.tb = b ? b->type : 0;
    a.scale = sc ? (const char *)sc->data : nullptr;
    a.tsc = sc ? sc->type : 0;
    a.shift = sh ? (const char *)sh->data : nullptr;
    a.tsh = sh ? sh->type : 0;
    if (sc) a.ssc = svg_cuda_shape_bcast(sc, dst);
    if (sh) a.ssh = svg_cuda_shape_bcast(sh, dst);
    a.rms = dst->op_params[0] == SVG_NORM_RMS;
    a.eps = svg_param_f32(dst, 3);
    int64_t outer = 1;
    a.N = 1;
    a.inner = 1;
    for (int i = 0; i < x->n_dims; i++) {
        if (i < dim0) outer *= x->ne[i];
        else if (i < dim0 + nd) a.N *= x->ne[i];
        else a.inner *= x->ne[i];
    }
    a.row_mod = a.inner == 1 && nd == 1;
    if (svg_nelements(dst) == 0) return true;
    switch (dst->type) {
        case SVG_TYPE_F16: return launch_norm<__half>(c, dst, a, outer);
        case SVG_TYPE_BF16: return launch_norm<__nv_bfloat16>(c, dst, a, outer);
        default: return launch_norm<float>(c, dst, a, outer);
    }
}

bool svg_cuda_group_norm(svg_cuda_ctx &c, svg_tensor *dst) {
    const svg_tensor *x = dst->src[0], *w = dst->src[1], *b = dst->src[2];
    const int64_t G = dst->op_params[0], B = x->ne[0], C = x->ne[1];
    const int64_t S = (B * C) != 0 ? svg_nelements(x) / (B * C) : 0;
    const float eps = svg_param_f32(dst, 1);
    if (svg_nelements(dst) == 0) return true;
    const char *wd = w ? (const char *)w->data : nullptr, *bd = b ? (const char *)b->data : nullptr;
    const int tw = w ? w->type : 0, tb = b ? b->type : 0;
    const unsigned blocks = (unsigned)(B * G);
    switch (dst->type) {
        case SVG_TYPE_F16: group_norm_kernel<<<blocks, 512, 0, c.stream>>>((__half *)dst->data, (const char *)x->data, x->type, wd, tw, bd, tb, C, G, S, eps); break;
        case SVG_TYPE_BF16: group_norm_kernel<<<blocks, 512, 0, c.stream>>>((__nv_bfloat16 *)dst->data, (const char *)x->data, x->type, wd, tw, bd, tb, C, G, S, eps); break;
        default: group_norm_kernel<<<blocks, 512, 0, c.stream>>>((float *)dst->data, (const char *)x->data, x->type, wd, tw, bd, tb, C, G, S, eps); break;
    }
    SVG_CUDA_LAUNCHED();
    return true;
}
