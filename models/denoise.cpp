// The shared denoising loop (models/denoise.h).
#include "models/denoise.h"

#include <cmath>
#include <random>

#include "src/svg-impl.h"

bool svg_denoise(svg_scheduler &sched, std::vector<float> &latents, const svg_denoise_options &opt, const svg_predict_fn &predict) {
    const int steps = (int)sched.timesteps.size();
    const bool cfg = opt.guidance > 1.0f;
    std::vector<float> vc, vu;
    for (int i = 0; i < steps; i++) {
        if (opt.cancel && opt.cancel()) return svg_err(false, "denoise: cancelled at step %d of %d", i + 1, steps);
        const float t = (float)sched.timesteps[(size_t)i];
        dit_sparse_attention sparse = opt.sparse;
        sparse.enabled = sparse.enabled && i >= (int)std::floor(opt.sparse_dense_steps * steps);
        sparse.seed = opt.sparse.seed + 7919u * (uint32_t)i;  // other rows each step
        if (!predict(latents, t, sparse, &vc, cfg ? &vu : nullptr)) return false;
        if (vc.size() != latents.size() || (cfg && vu.size() != latents.size()))
            return svg_err(false, "denoise: the model predicted %zu values for %zu latents", vc.size(), latents.size());
        if (cfg) {
            const double g = opt.dynamic_guidance
                                 ? 1.0 + opt.guidance * (1.0 - std::cos(M_PI * std::pow((steps - (double)t) / steps, 5.0))) / 2.0
                                 : opt.guidance;
            const float gf = (float)g;
            for (size_t j = 0; j < vc.size(); j++) vc[j] = vu[j] + gf * (vc[j] - vu[j]);
        }
        if (!sched.step(vc.data(), latents.data(), latents.size())) return false;
        if (opt.progress) opt.progress(i + 1, steps);
    }
    return true;
}

std::vector<float> svg_noise(size_t n, uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::vector<float> v(n);
    for (size_t i = 0; i < n; i += 2) {
        const double u1 = ((rng() >> 11) + 1.0) * 0x1.0p-53, u2 = (rng() >> 11) * 0x1.0p-53;
        const double r = std::sqrt(-2.0 * std::log(u1));
        v[i] = (float)(r * std::cos(2 * M_PI * u2));
        if (i + 1 < n) v[i + 1] = (float)(r * std::sin(2 * M_PI * u2));
    }
    return v;
}
