// Normalization kernels: layer/rms norm over a dim range with affine and
// fused adaLN modulation, and group norm. Statistics in double (two passes),
// so the CPU reference is stable for inputs with a large mean.
#include "cpu-impl.h"

#include <cmath>

// x viewed as [outer, N, inner] (N = product of the normalized dims). For
// each (outer, inner) pair: y = norm(x) * w[n] + b[n], then optionally
// y = y * (1 + scale) + shift with scale/shift broadcast to x's shape.
bool svg_cpu_norm(const svg_cpu_ctx &c, svg_tensor *dst) {
    const svg_tensor *x = dst->src[0], *w = dst->src[1], *b = dst->src[2];
    const svg_tensor *scale = dst->src[3], *shift = dst->src[4];
    const bool rms = dst->op_params[0] == SVG_NORM_RMS;
    const int dim0 = dst->op_params[1], nd = dst->op_params[2];
    const double eps = svg_param_f32(dst, 3);
    int64_t outer = 1, N = 1, inner = 1;
    for (int i = 0; i < x->n_dims; i++) {
        if (i < dim0) outer *= x->ne[i];
        else if (i < dim0 + nd) N *= x->ne[i];
        else inner *= x->ne[i];
    }
    const float *xd = (const float *)x->data;
    const float *wd = w ? (const float *)w->data : nullptr, *bd = b ? (const float *)b->data : nullptr;
    float *y = (float *)dst->data;
    const int n = x->n_dims;
    const bool row_mod = inner == 1 && nd == 1 && (scale || shift);
    c.parallel_for(outer * inner, [&](int64_t p0, int64_t p1) {
        int64_t idx[SVG_MAX_DIMS];
        for (int64_t p = p0; p < p1; p++) {
            const int64_t o = p / inner, in = p % inner;
            const int64_t base = o * N * inner + in;
            double mean = 0;
            if (!rms) {
                for (int64_t k = 0; k < N; k++) mean += xd[base + k * inner];
                mean /= (double)N;
            }
            double var = 0;
            for (int64_t k = 0; k < N; k++) {
                const double d = xd[base + k * inner] - mean;
                var += d * d;
            }
            const double rstd = 1.0 / std::sqrt(var / (double)N + eps);
            // innermost-dim norm (the common case): modulation rows are
            // addressed once per row, then strided along the last dim
            const char *ps = nullptr, *pt = nullptr;
            size_t ss = 0, st = 0;
            if (row_mod) {
                svg_unravel(dst, base, idx);
                if (scale) ps = (const char *)scale->data + svg_offset_bcast(scale, idx, n), ss = scale->ne[scale->n_dims - 1] == 1 ? 0 : scale->nb[scale->n_dims - 1];
                if (shift) pt = (const char *)shift->data + svg_offset_bcast(shift, idx, n), st = shift->ne[shift->n_dims - 1] == 1 ? 0 : shift->nb[shift->n_dims - 1];
            }
            for (int64_t k = 0; k < N; k++) {
                const int64_t e = base + k * inner;
                float v = (float)((xd[e] - mean) * rstd);
                if (wd) v *= wd[k];
                if (bd) v += bd[k];
                if (row_mod) {
                    if (ps) v *= 1.0f + *(const float *)(ps + k * ss);
                    if (pt) v += *(const float *)(pt + k * st);
                } else if (scale || shift) {
                    svg_unravel(dst, e, idx);
                    if (scale) v *= 1.0f + *(const float *)((const char *)scale->data + svg_offset_bcast(scale, idx, n));
                    if (shift) v += *(const float *)((const char *)shift->data + svg_offset_bcast(shift, idx, n));
                }
                y[e] = v;
            }
        }
    });
    return true;
}

// x [B, C, S...] contiguous: group g of batch b is the contiguous block of
// C/G channels × S elements.
bool svg_cpu_group_norm(const svg_cpu_ctx &c, svg_tensor *dst) {
    const svg_tensor *x = dst->src[0], *w = dst->src[1], *b = dst->src[2];
    const int G = dst->op_params[0];
    const double eps = svg_param_f32(dst, 1);
    const int64_t B = x->ne[0], C = x->ne[1];
    const int64_t S = svg_nelements(x) / std::max<int64_t>(1, B * C);
    const int64_t cg = C / G;
    const float *xd = (const float *)x->data;
    float *y = (float *)dst->data;
    c.parallel_for(B * G, [&](int64_t p0, int64_t p1) {
        for (int64_t p = p0; p < p1; p++) {
            const int64_t bi = p / G, g = p % G;
            const int64_t base = (bi * C + g * cg) * S, n = cg * S;
            double mean = 0, var = 0;
            for (int64_t i = 0; i < n; i++) mean += xd[base + i];
            mean /= (double)n;
            for (int64_t i = 0; i < n; i++) {
                const double d = xd[base + i] - mean;
                var += d * d;
            }
            const double rstd = 1.0 / std::sqrt(var / (double)n + eps);
            for (int64_t ch = 0; ch < cg; ch++) {
                const int64_t cc = g * cg + ch;
                const float wv = w ? ((const float *)w->data)[cc] : 1.0f;
                const float bv = b ? ((const float *)b->data)[cc] : 0.0f;
                for (int64_t s = 0; s < S; s++) {
                    const int64_t e = base + ch * S + s;
                    y[e] = (float)((xd[e] - mean) * rstd) * wv + bv;
                }
            }
        }
    });
    return true;
}
