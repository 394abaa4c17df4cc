// Position encodings: sinusoidal timestep embedding and rotary embedding
// (per-axis frequency tables; interleaved-pair or half-split rotation).
#include "cuda-common.cuh"

#include <cmath>

namespace {

// arg = scale · t · exp(−ln(max_period)·i / (half − shift)); [sin | cos] or flipped
__global__ void timestep_kernel(float *y, const char *t, int tt, int64_t ts, int dim, bool flip, float shift, float scale,
                                float log_max_period, int64_t N) {
    const int half = dim / 2;
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < N * half; i += (int64_t)gridDim.x * blockDim.x) {
        const int64_t n = i / half;
        const int k = (int)(i % half);
        const float freq = expf(-log_max_period * (float)k / ((float)half - shift));
        const float arg = scale * (svg_ld_any(t + n * ts, tt) * freq);
        const float s = (float)sin((double)arg), co = (float)cos((double)arg);
        y[n * dim + k] = flip ? co : s;
        y[n * dim + half + k] = flip ? s : co;
        if ((dim & 1) && k == 0) y[n * dim + dim - 1] = 0.f;
    }
}

struct rope_args {
    const char *x;
    int tx;
    int64_t xs[4];
    const char *pos;
    int64_t ps0, ps1;
    int64_t B, L, H, D;
    int n_axes;
    int axes_dim[8];
    bool half_split;
    double log_theta;
};

// one thread per rotated pair; angle in double as the references build
// their tables in float64
template <typename TD>
__global__ void rope_kernel(TD *y, rope_args a, int64_t n_pairs) {
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n_pairs; i += (int64_t)gridDim.x * blockDim.x) {
        const int64_t half_d = a.D / 2;
        int64_t k = i % half_d;
        const int64_t row = i / half_d;  // (b, l, h)
        const int64_t h = row % a.H, l = (row / a.H) % a.L, b = row / (a.H * a.L);
        int ax = 0, off = 0;
        while (k >= a.axes_dim[ax] / 2) {
            k -= a.axes_dim[ax] / 2;
            off += a.axes_dim[ax];
            ax++;
        }
        const int da = a.axes_dim[ax];
        const int64_t i0 = a.half_split ? off + k : off + 2 * k;
        const int64_t i1 = a.half_split ? off + k + da / 2 : off + 2 * k + 1;
        const float p = *(const float *)(a.pos + l * a.ps0 + ax * a.ps1);
        const double ang = (double)p * exp(-2.0 * (double)k / da * a.log_theta);
        double sn, cs;
        sincos(ang, &sn, &cs);
        const char *px = a.x + b * a.xs[0] + l * a.xs[1] + h * a.xs[2];
        const float x0 = svg_ld_any(px + i0 * a.xs[3], a.tx), x1 = svg_ld_any(px + i1 * a.xs[3], a.tx);
        TD *yr = y + row * a.D;
        svg_st(yr + i0, (float)(x0 * cs - x1 * sn));
        svg_st(yr + i1, (float)(x0 * sn + x1 * cs));
    }
}

}  // namespace

bool svg_cuda_timestep_embedding(svg_cuda_ctx &c, svg_tensor *dst) {
    const svg_tensor *t = dst->src[0];
    const int dim = dst->op_params[0];
    const int64_t N = t->ne[0];
    if (N == 0) return true;
    timestep_kernel<<<svg_cuda_blocks(N * (dim / 2), 256), 256, 0, c.stream>>>(
        (float *)dst->data, (const char *)t->data, t->type, (int64_t)t->nb[0], dim, dst->op_params[1] != 0, svg_param_f32(dst, 2),
        svg_param_f32(dst, 3), logf(svg_param_f32(dst, 4)), N);
    SVG_CUDA_LAUNCHED();
    return true;
}

bool svg_cuda_rope(svg_cuda_ctx &c, svg_tensor *dst) {
    const svg_tensor *x = dst->src[0], *pos = dst->src[1];
    rope_args a{};
    a.x = (const char *)x->data;
    a.tx = x->type;
    for (int i = 0; i < 4; i++) a.xs[i] = (int64_t)x->nb[i];
    a.pos = (const char *)pos->data;
    a.ps0 = (int64_t)pos->nb[0];
    a.ps1 = (int64_t)pos->nb[1];
    a.B = x->ne[0]; a.L = x->ne[1]; a.H = x->ne[2]; a.D = x->ne[3];
    a.n_axes = dst->op_params[0];
    a.half_split = dst->op_params[1] == SVG_ROPE_HALF_SPLIT;
    a.log_theta = std::log((double)svg_param_f32(dst, 2));
    for (int i = 0; i < a.n_axes; i++) a.axes_dim[i] = dst->op_params[3 + i];
    const int64_t n_pairs = svg_nelements(dst) / 2;
    if (n_pairs == 0) return true;
    switch (dst->type) {
        case SVG_TYPE_F16: rope_kernel<<<svg_cuda_blocks(n_pairs, 256), 256, 0, c.stream>>>((__half *)dst->data, a, n_pairs); break;
        case SVG_TYPE_BF16: rope_kernel<<<svg_cuda_blocks(n_pairs, 256), 256, 0, c.stream>>>((__nv_bfloat16 *)dst->data, a, n_pairs); break;
        default: rope_kernel<<<svg_cuda_blocks(n_pairs, 256), 256, 0, c.stream>>>((float *)dst->data, a, n_pairs); break;
    }
    SVG_CUDA_LAUNCHED();
    return true;
}
