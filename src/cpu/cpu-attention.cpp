// ATTENTION: o[b, i, h, :] = sum_j softmax_j(scale * q[b,h,i]·k[b,g,j] + bias[b,h,i,j]) v[b,g,j, :]
// with g = h / (H / Hkv) (GQA), keys excluded where key_mask[b, j] == 0 or
// (causal) j > i + Lk - Lq or (sparse) outside the band mask of svg.h. A row
// with no visible key outputs zeros. One task
// per query row; scores in a row buffer, exact softmax (max-subtracted).
#include "cpu-impl.h"

#include <cmath>

bool svg_cpu_attention(const svg_cpu_ctx &c, svg_tensor *dst) {
    const svg_tensor *q = dst->src[0], *k = dst->src[1], *v = dst->src[2];
    const svg_tensor *bias = dst->src[3], *mask = dst->src[4];
    const float scale = svg_param_f32(dst, 0);
    const bool causal = dst->op_params[1] != 0;
    const bool sparse = dst->op_params[2] != 0;  // the Sparse VideoGen band mask (svg.h)
    const svg_sparse_mask band = sparse ? svg_sparse_load(dst, 3) : svg_sparse_mask{};
    const int64_t B = q->ne[0], H = q->ne[1], Lq = q->ne[2], D = q->ne[3];
    const int64_t Hkv = k->ne[1], Lk = k->ne[2], Dv = v->ne[3];
    const int64_t group = H / Hkv;
    float *O = (float *)dst->data;

    // bias element address (broadcast dims have stride 0)
    auto bias_at = [&](int64_t b, int64_t h, int64_t i, int64_t j) {
        const size_t o = (bias->ne[0] == 1 ? 0 : b * bias->nb[0]) + (bias->ne[1] == 1 ? 0 : h * bias->nb[1]) +
                         (bias->ne[2] == 1 ? 0 : i * bias->nb[2]) + (bias->ne[3] == 1 ? 0 : j * bias->nb[3]);
        return *(const float *)((const char *)bias->data + o);
    };
    auto key_visible = [&](int64_t b, int64_t i, int64_t j) {
        if (causal && j > i + Lk - Lq) return false;
        if (sparse && !band.visible(i, j)) return false;
        if (mask) {
            const char *p = (const char *)mask->data + b * mask->nb[0] + j * mask->nb[1];
            const bool keep = mask->type == SVG_TYPE_I32 ? *(const int32_t *)p != 0 : *(const float *)p != 0.0f;
            if (!keep) return false;
        }
        return true;
    };

    c.parallel_for(B * H * Lq, [&](int64_t r0, int64_t r1) {
        std::vector<float> s((size_t)Lk), qr((size_t)D), acc((size_t)Dv);
        for (int64_t r = r0; r < r1; r++) {
            const int64_t i = r % Lq, h = (r / Lq) % H, b = r / (Lq * H), g = h / group;
            const char *pq = (const char *)q->data + b * q->nb[0] + h * q->nb[1] + i * q->nb[2];
            for (int64_t d = 0; d < D; d++) qr[(size_t)d] = *(const float *)(pq + d * q->nb[3]);
            float m = -INFINITY;
            for (int64_t j = 0; j < Lk; j++) {
                if (!key_visible(b, i, j)) {
                    s[(size_t)j] = -INFINITY;
                    continue;
                }
                const char *pk = (const char *)k->data + b * k->nb[0] + g * k->nb[1] + j * k->nb[2];
                float dot = 0;
                for (int64_t d = 0; d < D; d++) dot += qr[(size_t)d] * *(const float *)(pk + d * k->nb[3]);
                float sc = dot * scale;
                if (bias) sc += bias_at(b, h, i, j);
                s[(size_t)j] = sc;
                m = std::max(m, sc);
            }
            float *o = O + ((b * Lq + i) * H + h) * Dv;
            std::fill(acc.begin(), acc.end(), 0.0f);
            if (m == -INFINITY) {  // nothing visible
                for (int64_t d = 0; d < Dv; d++) o[d] = 0.0f;
                continue;
            }
            double sum = 0;
            for (int64_t j = 0; j < Lk; j++) {
                if (s[(size_t)j] == -INFINITY) continue;
                const float p = expf(s[(size_t)j] - m);
                sum += p;
                const char *pv = (const char *)v->data + b * v->nb[0] + g * v->nb[1] + j * v->nb[2];
                for (int64_t d = 0; d < Dv; d++) acc[(size_t)d] += p * *(const float *)(pv + d * v->nb[3]);
            }
            const float inv = (float)(1.0 / sum);
            for (int64_t d = 0; d < Dv; d++) o[d] = acc[(size_t)d] * inv;
        }
    });
    return true;
}
