// Sparse VideoGen ops on the CPU: the reference the other backends match.
//
// SPARSE_PROFILE: for each (b, h), samples k = 0..rows−1 pick video row
//   u_k = svg_sparse_sample_row(seed, b, h, k) (frame-major) and query row
//   i = text_before + u_k. Its scores s_j = scale·q_i·k_j over every key
//   (key mask applied) give three softmax-weighted sums of v: exact (every
//   key), spatial (band over frame-major positions) and temporal (band over
//   the temporal head order). mse_m = Σ_k Σ_d (o_m − o_exact)² / (rows·Dv);
//   out[b, h] = (mse_t < mse_s, mse_s, mse_t).
// SPARSE_PERMUTE: out[b, row, h] = x[b, src(row), h] with, for temporal heads,
//   video row tb + position(u) ← tb + u (inverse: tb + u ← tb + position(u)).
#include <cmath>
#include <vector>

#include "cpu-impl.h"

namespace {

float ld(const svg_tensor *t, size_t off) { return *(const float *)((const char *)t->data + off); }

}  // namespace

bool svg_cpu_sparse_profile(const svg_cpu_ctx &c, svg_tensor *dst) {
    const svg_tensor *q = dst->src[0], *k = dst->src[1], *v = dst->src[2], *mask = dst->src[4];
    const float scale = svg_param_f32(dst, 0);
    const int rows = dst->op_params[1];
    const uint32_t seed = (uint32_t)dst->op_params[2];
    const svg_sparse_mask m = svg_sparse_load(dst, 3);
    const int64_t B = q->ne[0], H = q->ne[1], L = q->ne[2], D = q->ne[3], Hkv = k->ne[1], Dv = v->ne[3];
    const int64_t tb = m.text_before, V = m.video();
    float *out = (float *)dst->data;
    c.parallel_for(B * H, [&](int64_t t0, int64_t t1) {
        std::vector<double> s((size_t)L), o[3];
        for (auto &x : o) x.resize((size_t)Dv);
        for (int64_t t = t0; t < t1; t++) {
            const int64_t b = t / H, h = t % H, g = h / (H / Hkv);
            double err[3] = {0, 0, 0};
            for (int r = 0; r < rows; r++) {
                const int64_t u = svg_sparse_sample_row(seed, b, h, r, V), i = tb + u;
                for (int64_t j = 0; j < L; j++) {
                    bool keep = true;
                    if (mask) {
                        const char *p = (const char *)mask->data + b * mask->nb[0] + j * mask->nb[1];
                        keep = mask->type == SVG_TYPE_I32 ? *(const int32_t *)p != 0 : *(const float *)p != 0.0f;
                    }
                    double dot = 0;
                    for (int64_t d = 0; keep && d < D; d++)
                        dot += (double)ld(q, b * q->nb[0] + h * q->nb[1] + i * q->nb[2] + d * q->nb[3]) *
                               ld(k, b * k->nb[0] + g * k->nb[1] + j * k->nb[2] + d * k->nb[3]);
                    s[(size_t)j] = keep ? dot * scale : -INFINITY;
                }
                // 0 exact, 1 spatial, 2 temporal
                for (int mode = 0; mode < 3; mode++) {
                    auto visible = [&](int64_t j) {
                        if (s[(size_t)j] == -INFINITY) return false;
                        if (mode == 0 || j < tb || j >= tb + V) return true;
                        const int kind = mode - 1;
                        return m.video_visible(m.position(kind, u), m.position(kind, j - tb));
                    };
                    double mx = -INFINITY;
                    for (int64_t j = 0; j < L; j++)
                        if (visible(j)) mx = std::max(mx, s[(size_t)j]);
                    std::fill(o[mode].begin(), o[mode].end(), 0.0);
                    if (mx == -INFINITY) continue;
                    double sum = 0;
                    for (int64_t j = 0; j < L; j++) {
                        if (!visible(j)) continue;
                        const double p = std::exp(s[(size_t)j] - mx);
                        sum += p;
                        for (int64_t d = 0; d < Dv; d++)
                            o[mode][(size_t)d] += p * ld(v, b * v->nb[0] + g * v->nb[1] + j * v->nb[2] + d * v->nb[3]);
                    }
                    for (double &x : o[mode]) x /= sum;
                }
                for (int mode = 1; mode < 3; mode++)
                    for (int64_t d = 0; d < Dv; d++) {
                        const double e = o[mode][(size_t)d] - o[0][(size_t)d];
                        err[mode] += e * e;
                    }
            }
            const double n = (double)rows * (double)Dv;
            float *r = out + t * 3;
            r[1] = (float)(err[1] / n);
            r[2] = (float)(err[2] / n);
            r[0] = r[2] < r[1] ? (float)SVG_HEAD_TEMPORAL : (float)SVG_HEAD_SPATIAL;
        }
    });
    return true;
}

bool svg_cpu_sparse_permute(const svg_cpu_ctx &c, svg_tensor *dst) {
    const svg_tensor *x = dst->src[0], *kinds = dst->src[1];
    const bool inverse = dst->op_params[0] != 0;
    const svg_sparse_mask m = svg_sparse_load(dst, 3);
    const int64_t B = x->ne[0], L = x->ne[1], H = x->ne[2], D = x->ne[3], tb = m.text_before, V = m.video();
    float *out = (float *)dst->data;
    c.parallel_for(B * L, [&](int64_t r0, int64_t r1) {
        for (int64_t r = r0; r < r1; r++) {
            const int64_t b = r / L, row = r % L;
            for (int64_t h = 0; h < H; h++) {
                const bool temporal = ld(kinds, b * kinds->nb[0] + h * kinds->nb[1]) >= 0.5f;
                int64_t src = row;
                if (temporal && row >= tb && row < tb + V) {
                    if (inverse) {
                        src = tb + m.position(SVG_HEAD_TEMPORAL, row - tb);
                    } else {
                        // the frame-major row u whose temporal position is row − tb
                        const int64_t p = row - tb, sink_rows = m.sink * m.tpf;
                        if (p < sink_rows) {
                            src = row;
                        } else {
                            const int64_t rest = m.frames - m.sink, s = (p - sink_rows) / rest, f = m.sink + (p - sink_rows) % rest;
                            src = tb + f * m.tpf + s;
                        }
                    }
                }
                float *o = out + ((b * L + row) * H + h) * D;
                for (int64_t d = 0; d < D; d++) o[d] = ld(x, b * x->nb[0] + src * x->nb[1] + h * x->nb[2] + d * x->nb[3]);
            }
        }
    });
    return true;
}
