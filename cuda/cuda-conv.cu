// CONV3D, direct: one thread per output element
//   y[b, co, od, oh, ow] = bias[co] + Σ_{ci,kd,kh,kw} w[co, ci, kd, kh, kw] · x[b, ci, od·sd − pd + kd, ...]
// zeros outside x. Weights and inputs any float type and strides.
#include "cuda-common.cuh"

namespace {

struct conv_args {
    const char *x, *w, *bias;
    int tx, tw, tb;
    int64_t B, Cin, D, H, W, Cout, KD, KH, KW, Do, Ho, Wo;
    int64_t xs[5], ws[5], bs;
    int sd, sh, sw, pd, ph, pw;
};

template <typename TD>
__global__ void conv3d_kernel(TD *y, conv_args a, int64_t n) {
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x) {
        int64_t r = i;
        const int64_t ow = r % a.Wo; r /= a.Wo;
        const int64_t oh = r % a.Ho; r /= a.Ho;
        const int64_t od = r % a.Do; r /= a.Do;
        const int64_t co = r % a.Cout;
        const int64_t b = r / a.Cout;
        float acc = a.bias ? svg_ld_any(a.bias + co * a.bs, a.tb) : 0.f;
        for (int64_t ci = 0; ci < a.Cin; ci++)
            for (int64_t kd = 0; kd < a.KD; kd++) {
                const int64_t id = od * a.sd - a.pd + kd;
                if (id < 0 || id >= a.D) continue;
                for (int64_t kh = 0; kh < a.KH; kh++) {
                    const int64_t ih = oh * a.sh - a.ph + kh;
                    if (ih < 0 || ih >= a.H) continue;
                    const char *xr = a.x + b * a.xs[0] + ci * a.xs[1] + id * a.xs[2] + ih * a.xs[3];
                    const char *wr = a.w + co * a.ws[0] + ci * a.ws[1] + kd * a.ws[2] + kh * a.ws[3];
                    for (int64_t kw = 0; kw < a.KW; kw++) {
                        const int64_t iw = ow * a.sw - a.pw + kw;
                        if (iw < 0 || iw >= a.W) continue;
                        acc += svg_ld_any(wr + kw * a.ws[4], a.tw) * svg_ld_any(xr + iw * a.xs[4], a.tx);
                    }
                }
            }
        svg_st(y + i, acc);
    }
}

}  // namespace

bool svg_cuda_conv3d(svg_cuda_ctx &c, svg_tensor *dst) {
    const svg_tensor *x = dst->src[0], *w = dst->src[1], *bias = dst->src[2];
    conv_args a{};
    a.x = (const char *)x->data;
    a.w = (const char *)w->data;
    a.bias = bias ? (const char *)bias->data : nullptr;
    a.tx = x->type;
    a.tw = w->type;
    a.tb = bias ? bias->type : 0;
    a.B = x->ne[0]; a.Cin = x->ne[1]; a.D = x->ne[2]; a.H = x->ne[3]; a.W = x->ne[4];
    a.Cout = w->ne[0]; a.KD = w->ne[2]; a.KH = w->ne[3]; a.KW = w->ne[4];
    a.Do = dst->ne[2]; a.Ho = dst->ne[3]; a.Wo = dst->ne[4];
    for (int i = 0; i < 5; i++) {
        a.xs[i] = (int64_t)x->nb[i];
        a.ws[i] = (int64_t)w->nb[i];
    }
    a.bs = bias ? (int64_t)bias->nb[bias->n_dims - 1] : 0;
    const int *p = dst->op_params;
    a.sd = p[0]; a.sh = p[1]; a.sw = p[2]; a.pd = p[3]; a.ph = p[5]; a.pw = p[7];
    const int64_t n = svg_nelements(dst);
    if (n == 0) return true;
    switch (dst->type) {
        case SVG_TYPE_F16: conv3d_kernel<<<svg_cuda_blocks(n, 256), 256, 0, c.stream>>>((__half *)dst->data, a, n); break;
        case SVG_TYPE_BF16: conv3d_kernel<<<svg_cuda_blocks(n, 256), 256, 0, c.stream>>>((__nv_bfloat16 *)dst->data, a, n); break;
        default: conv3d_kernel<<<svg_cuda_blocks(n, 256), 256, 0, c.stream>>>((float *)dst->data, a, n); break;
    }
    SVG_CUDA_LAUNCHED();
    return true;
}
