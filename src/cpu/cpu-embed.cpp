// Position encodings: sinusoidal timestep embedding and rotary embedding
// with per-axis frequency tables. Angles are computed in double, as the
// reference implementations build their tables in float64.
#include "cpu-impl.h"

#include <cmath>

// diffusers get_timestep_embedding:
//   freq_i = exp(-ln(max_period) * i / (half - shift)), arg = scale * t * freq_i
//   emb = [sin(arg) | cos(arg)]   ([cos | sin] when flipped)
bool svg_cpu_timestep_embedding(const svg_cpu_ctx &c, svg_tensor *dst) {
    const svg_tensor *t = dst->src[0];
    const int dim = dst->op_params[0];
    const bool flip = dst->op_params[1] != 0;
    const double shift = svg_param_f32(dst, 2), scale = svg_param_f32(dst, 3), max_period = svg_param_f32(dst, 4);
    const int half = dim / 2;
    const int64_t N = t->ne[0];
    float *y = (float *)dst->data;
    for (int64_t n = 0; n < N; n++) {
        const float tv = *(const float *)((const char *)t->data + n * t->nb[0]);
        float *row = y + n * dim;
        for (int i = 0; i < half; i++) {
            // the reference computes exponent and frequency in f32
            const float freq = expf((float)(-std::log(max_period)) * (float)i / (float)(half - shift));
            const float arg = (float)scale * (tv * freq);
            const float s = (float)std::sin((double)arg), co = (float)std::cos((double)arg);
            row[i] = flip ? co : s;
            row[half + i] = flip ? s : co;
        }
        if (dim % 2) row[dim - 1] = 0.0f;
    }
    return true;
}

// x [B, L, H, D] (any strides) → contiguous. Axis a owns the head-dim section
// [o_a, o_a + d_a); its pair j rotates by pos[l, a] * theta^(-2j / d_a).
// Interleaved pairs: (o_a + 2j, o_a + 2j + 1); half-split: (o_a + j, o_a + j + d_a/2).
bool svg_cpu_rope(const svg_cpu_ctx &c, svg_tensor *dst) {
    const svg_tensor *x = dst->src[0], *pos = dst->src[1];
    const int n_axes = dst->op_params[0];
    const bool half_split = dst->op_params[1] == SVG_ROPE_HALF_SPLIT;
    const double theta = svg_param_f32(dst, 2);
    const int64_t B = x->ne[0], L = x->ne[1], H = x->ne[2], D = x->ne[3];
    std::vector<double> inv_freq((size_t)D / 2);
    std::vector<int> pair_axis((size_t)D / 2);
    {
        int64_t k = 0;
        for (int a = 0; a < n_axes; a++) {
            const int da = dst->op_params[3 + a];
            for (int j = 0; j < da / 2; j++, k++) {
                inv_freq[(size_t)k] = std::pow(theta, -2.0 * j / da);
                pair_axis[(size_t)k] = a;
            }
        }
    }
    float *Y = (float *)dst->data;
    c.parallel_for(B * L, [&](int64_t r0, int64_t r1) {
        std::vector<float> cs((size_t)D / 2), sn((size_t)D / 2), row((size_t)D);
        for (int64_t r = r0; r < r1; r++) {
            const int64_t b = r / L, l = r % L;
            for (int64_t k = 0; k < D / 2; k++) {
                const float p = *(const float *)((const char *)pos->data + l * pos->nb[0] + pair_axis[(size_t)k] * pos->nb[1]);
                const double ang = p * inv_freq[(size_t)k];
                cs[(size_t)k] = (float)std::cos(ang);
                sn[(size_t)k] = (float)std::sin(ang);
            }
            for (int64_t h = 0; h < H; h++) {
                const char *px = (const char *)x->data + b * x->nb[0] + l * x->nb[1] + h * x->nb[2];
                for (int64_t d = 0; d < D; d++) row[(size_t)d] = *(const float *)(px + d * x->nb[3]);
                float *y = Y + ((b * L + l) * H + h) * D;
                int64_t off = 0, k = 0;
                for (int a = 0; a < n_axes; a++) {
                    const int da = dst->op_params[3 + a];
                    for (int j = 0; j < da / 2; j++, k++) {
                        const int64_t i0 = half_split ? off + j : off + 2 * j;
                        const int64_t i1 = half_split ? off + j + da / 2 : off + 2 * j + 1;
                        const float x0 = row[(size_t)i0], x1 = row[(size_t)i1];
                        y[i0] = x0 * cs[(size_t)k] - x1 * sn[(size_t)k];
                        y[i1] = x0 * sn[(size_t)k] + x1 * cs[(size_t)k];
                    }
                    off += da;
                }
            }
        }
    });
    return true;
}
