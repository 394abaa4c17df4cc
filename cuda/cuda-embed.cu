// Position encodings: sinusoidal timestep embedding and rotary embedding
// (per-axis frequency tables; interleaved-pair or half-split rotation). The
// common RoPE layout runs in the row pass (cuda-rows.cu).
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

// General RoPE (the row pass in cuda-rows.cu takes interleaved rows with
// D % 8 == 0 and 16-byte aligned heads): any strides, either pair layout,
// one block per (b, l). The D/2 (cos, sin) of the position go to shared
// memory first, then every head's pairs rotate with them.
struct rope_args {
    const char *x;
    int tx;
    int64_t xs[4];
    const char *pos;
    int64_t ps0, ps1;
    int64_t L, H, D;
    svg_rope_pairs pairs;
};

template <typename TD>
__global__ void rope_kernel(TD *y, rope_args a) {
    __shared__ float2 cs[SVG_ROPE_MAX_PAIRS];
    const int64_t bl = blockIdx.x, l = bl % a.L, b = bl / a.L;
    const int half = a.pairs.n;
    for (int k = threadIdx.x; k < half; k += blockDim.x)
        cs[k] = svg_rope_cos_sin(*(const float *)(a.pos + l * a.ps0 + a.pairs.axis[k] * a.ps1), a.pairs.inv_freq[k]);
    __syncthreads();
    const char *px = a.x + b * a.xs[0] + l * a.xs[1];
    TD *yr = y + bl * a.H * a.D;
    for (int64_t i = threadIdx.x; i < a.H * half; i += blockDim.x) {
        const int64_t h = i / half;
        const int k = (int)(i % half);
        const char *ph = px + h * a.xs[2];
        const int i0 = a.pairs.i0[k], i1 = a.pairs.i1[k];
        const float x0 = svg_ld_any(ph + i0 * a.xs[3], a.tx), x1 = svg_ld_any(ph + i1 * a.xs[3], a.tx);
        svg_st(yr + h * a.D + i0, x0 * cs[k].x - x1 * cs[k].y);
        svg_st(yr + h * a.D + i1, x0 * cs[k].y + x1 * cs[k].x);
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

bool svg_rope_pairs_of(const svg_tensor *rope, svg_rope_pairs *p) {
    const int64_t D = rope->src[0]->ne[3];
    if (D > 2 * SVG_ROPE_MAX_PAIRS) return svg_err(false, "CUDA rope: head dim %lld > %d", (long long)D, 2 * SVG_ROPE_MAX_PAIRS);
    const bool half_split = rope->op_params[1] == SVG_ROPE_HALF_SPLIT;
    const double theta = svg_param_f32(rope, 2);
    p->n = (int)(D / 2);
    int k = 0, off = 0;
    for (int ax = 0; ax < rope->op_params[0]; ax++) {
        const int da = rope->op_params[3 + ax];
        for (int j = 0; j < da / 2; j++, k++) {
            p->axis[k] = (uint8_t)ax;
            p->i0[k] = (int16_t)(half_split ? off + j : off + 2 * j);
            p->i1[k] = (int16_t)(half_split ? off + j + da / 2 : off + 2 * j + 1);
            p->inv_freq[k] = (float)std::pow(theta, -2.0 * j / da);
        }
        off += da;
    }
    return true;
}

bool svg_cuda_rope(svg_cuda_ctx &c, svg_tensor *dst) {
    svg_row_args ra;
    if (svg_row_args_rope(dst, &ra)) return svg_row_pass(c, ra);
    const svg_tensor *x = dst->src[0], *pos = dst->src[1];
    rope_args a{};
    a.x = (const char *)x->data;
    a.tx = x->type;
    for (int i = 0; i < 4; i++) a.xs[i] = (int64_t)x->nb[i];
    a.pos = (const char *)pos->data;
    a.ps0 = (int64_t)pos->nb[0];
    a.ps1 = (int64_t)pos->nb[1];
    a.L = x->ne[1];
    a.H = x->ne[2];
    a.D = x->ne[3];
    if (!svg_rope_pairs_of(dst, &a.pairs)) return false;
    const int64_t rows = x->ne[0] * a.L;
    if (rows == 0 || a.D == 0) return true;
    if (rows > 0x7fffffff) return svg_err(false, "CUDA rope: too many positions");
    const int threads = 128;
    switch (dst->type) {
        case SVG_TYPE_F16: rope_kernel<<<(unsigned)rows, threads, 0, c.stream>>>((__half *)dst->data, a); break;
        case SVG_TYPE_BF16: rope_kernel<<<(unsigned)rows, threads, 0, c.stream>>>((__nv_bfloat16 *)dst->data, a); break;
        default: rope_kernel<<<(unsigned)rows, threads, 0, c.stream>>>((float *)dst->data, a); break;
    }
    SVG_CUDA_LAUNCHED();
    return true;
}
