// CONV3D, direct: y[b, co, od, oh, ow] = bias[co] + sum_{ci, kd, kh, kw}
//   w[co, ci, kd, kh, kw] * x[b, ci, od*sd - pd + kd, oh*sh - ph + kh, ow*sw - pw + kw]
// with zeros outside x. One task computes one output row (fixed b, co, od,
// oh) over ow; the ow range where the input index is valid is computed per
// kw, so the inner loop has no bounds checks.
#include "cpu-impl.h"

bool svg_cpu_conv3d(const svg_cpu_ctx &c, svg_tensor *dst) {
    const svg_tensor *x = dst->src[0], *w = dst->src[1], *bias = dst->src[2];
    const int *p = dst->op_params;
    const int64_t sd = p[0], sh = p[1], sw = p[2], pd = p[3], ph = p[5], pw = p[7];
    const int64_t B = x->ne[0], Cin = x->ne[1], D = x->ne[2], H = x->ne[3], W = x->ne[4];
    const int64_t Cout = w->ne[0], KD = w->ne[2], KH = w->ne[3], KW = w->ne[4];
    const int64_t Do = dst->ne[2], Ho = dst->ne[3], Wo = dst->ne[4];

    // weights → contiguous f32 [Cout, Cin, KD, KH, KW]
    std::vector<float> wf((size_t)svg_nelements(w));
    {
        int64_t idx[SVG_MAX_DIMS];
        for (int64_t i = 0; i < (int64_t)wf.size(); i++) {
            svg_unravel(w, i, idx);
            wf[(size_t)i] = svg_cpu_load(w, (const char *)w->data + svg_offset(w, idx));
        }
    }
    std::vector<float> bf((size_t)Cout, 0.0f);
    if (bias) {
        int64_t idx[SVG_MAX_DIMS];
        for (int64_t i = 0; i < Cout; i++) {
            svg_unravel(bias, i, idx);
            bf[(size_t)i] = svg_cpu_load(bias, (const char *)bias->data + svg_offset(bias, idx));
        }
    }
    // valid ow range per kw
    std::vector<int64_t> ow_lo((size_t)KW), ow_hi((size_t)KW);
    for (int64_t kw = 0; kw < KW; kw++) {
        // need 0 <= ow*sw - pw + kw < W
        int64_t lo = pw - kw <= 0 ? 0 : (pw - kw + sw - 1) / sw;
        int64_t hi = W - 1 + pw - kw < 0 ? -1 : (W - 1 + pw - kw) / sw;
        ow_lo[(size_t)kw] = std::max<int64_t>(0, lo);
        ow_hi[(size_t)kw] = std::min<int64_t>(Wo - 1, hi);
    }
    const size_t xb = x->nb[0], xc = x->nb[1], xd = x->nb[2], xh = x->nb[3], xw = x->nb[4];
    float *Y = (float *)dst->data;
    c.parallel_for(B * Cout * Do * Ho, [&](int64_t r0, int64_t r1) {
        for (int64_t r = r0; r < r1; r++) {
            const int64_t oh = r % Ho, od = (r / Ho) % Do, co = (r / (Ho * Do)) % Cout, b = r / (Ho * Do * Cout);
            float *y = Y + r * Wo;
            for (int64_t i = 0; i < Wo; i++) y[i] = bf[(size_t)co];
            for (int64_t ci = 0; ci < Cin; ci++)
                for (int64_t kd = 0; kd < KD; kd++) {
                    const int64_t id = od * sd - pd + kd;
                    if (id < 0 || id >= D) continue;
                    for (int64_t kh = 0; kh < KH; kh++) {
                        const int64_t ih = oh * sh - ph + kh;
                        if (ih < 0 || ih >= H) continue;
                        const char *xrow = (const char *)x->data + b * xb + ci * xc + id * xd + ih * xh;
                        const float *wk = wf.data() + (((co * Cin + ci) * KD + kd) * KH + kh) * KW;
                        for (int64_t kw = 0; kw < KW; kw++) {
                            const float wv = wk[kw];
                            const int64_t lo = ow_lo[(size_t)kw], hi = ow_hi[(size_t)kw];
                            if (xw == sizeof(float) && sw == 1) {
                                const float *xs = (const float *)xrow;
                                const int64_t shift = kw - pw;
                                for (int64_t ow = lo; ow <= hi; ow++) y[ow] += wv * xs[ow + shift];
                            } else {
                                for (int64_t ow = lo; ow <= hi; ow++)
                                    y[ow] += wv * *(const float *)(xrow + (ow * sw - pw + kw) * xw);
                            }
                        }
                    }
                }
        }
    });
    return true;
}
