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
    int64_t L, H, D;
    bool half_split;
    bool vec;  // interleaved, 16-bit, x rows and heads 16-byte aligned: vector path
    // per rotated pair k: axis, element indices, inverse frequency θ^(−2j/d_axis)
    int8_t axis[128];
    int16_t i0[128], i1[128];
    double inv_freq[128];
};

// One block per (b, l): the D/2 angles of this position are computed once in
// double (the references build their tables in float64) into shared memory,
// then every head's pairs rotate with them.
template <typename TD>
__global__ void rope_kernel(TD *y, rope_args a) {
    __shared__ float cs[128], sn[128];
    const int64_t bl = blockIdx.x, l = bl % a.L, b = bl / a.L;
    const int half_d = (int)(a.D / 2);
    for (int k = threadIdx.x; k < half_d; k += blockDim.x) {
        const float p = *(const float *)(a.pos + l * a.ps0 + a.axis[k] * a.ps1);
        double s, c;
        sincos((double)p * a.inv_freq[k], &s, &c);
        cs[k] = (float)c;
        sn[k] = (float)s;
    }
    __syncthreads();
    const char *px = a.x + b * a.xs[0] + l * a.xs[1];
    TD *yr = y + bl * a.H * a.D;
    if constexpr (sizeof(TD) == 2) {
        if (a.vec) {  // interleaved 16-bit rows: 4 pairs per 16-byte access
            const int per_head = (int)(a.D / 8);
            for (int64_t i = threadIdx.x; i < a.H * per_head; i += blockDim.x) {
                const int64_t h = i / per_head;
                const int q = (int)(i % per_head);
                const uint4 raw = *(const uint4 *)(px + h * a.xs[2] + q * 16);
                const TD *e = (const TD *)&raw;
                uint4 out;
                TD *o = (TD *)&out;
#pragma unroll
                for (int j = 0; j < 4; j++) {
                    const int k = q * 4 + j;
                    const float x0 = svg_ld(e + 2 * j), x1 = svg_ld(e + 2 * j + 1);
                    svg_st(o + 2 * j, x0 * cs[k] - x1 * sn[k]);
                    svg_st(o + 2 * j + 1, x0 * sn[k] + x1 * cs[k]);
                }
                *(uint4 *)(yr + h * a.D + q * 8) = out;
            }
            return;
        }
    }
    for (int64_t i = threadIdx.x; i < a.H * half_d; i += blockDim.x) {
        const int64_t h = i / half_d;
        const int k = (int)(i % half_d);
        const char *ph = px + h * a.xs[2];
        const float x0 = svg_ld_any(ph + a.i0[k] * a.xs[3], a.tx), x1 = svg_ld_any(ph + a.i1[k] * a.xs[3], a.tx);
        svg_st(yr + h * a.D + a.i0[k], x0 * cs[k] - x1 * sn[k]);
        svg_st(yr + h * a.D + a.i1[k], x0 * sn[k] + x1 * cs[k]);
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
    a.L = x->ne[1];
    a.H = x->ne[2];
    a.D = x->ne[3];
    if (a.D > 256) return svg_err(false, "CUDA rope: head dim %lld > 256", (long long)a.D);
    const bool half_split = dst->op_params[1] == SVG_ROPE_HALF_SPLIT;
    const double theta = svg_param_f32(dst, 2);
    int k = 0, off = 0;
    for (int ax = 0; ax < dst->op_params[0]; ax++) {
        const int da = dst->op_params[3 + ax];
        for (int j = 0; j < da / 2; j++, k++) {
            a.axis[k] = (int8_t)ax;
            a.i0[k] = (int16_t)(half_split ? off + j : off + 2 * j);
            a.i1[k] = (int16_t)(half_split ? off + j + da / 2 : off + 2 * j + 1);
            a.inv_freq[k] = std::pow(theta, -2.0 * j / da);
        }
        off += da;
    }
    a.vec = !half_split && x->type == dst->type && svg_type_traits_of(x->type)->type_size == 2 && a.D % 8 == 0 &&
            x->nb[3] == 2 && x->nb[2] % 16 == 0 && x->nb[1] % 16 == 0 && x->nb[0] % 16 == 0 && ((uintptr_t)x->data & 15) == 0;
    const int64_t rows = x->ne[0] * a.L;
    if (rows == 0 || a.D == 0) return true;
    if (rows > 0x7fffffff) return svg_err(false, "CUDA rope: too many positions");
    const int threads = 256;
    switch (dst->type) {
        case SVG_TYPE_F16: rope_kernel<<<(unsigned)rows, threads, 0, c.stream>>>((__half *)dst->data, a); break;
        case SVG_TYPE_BF16: rope_kernel<<<(unsigned)rows, threads, 0, c.stream>>>((__nv_bfloat16 *)dst->data, a); break;
        default: rope_kernel<<<(unsigned)rows, threads, 0, c.stream>>>((float *)dst->data, a); break;
    }
    SVG_CUDA_LAUNCHED();
    return true;
}
