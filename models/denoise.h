// The denoising loop every pipeline shares: at each step the model's
// prediction for the prompt (and, with guidance, for the negative prompt),
// combined by classifier-free guidance, then one scheduler step. Latents live
// on the host between steps (a few MB), so the loop is backend-agnostic; the
// model side decides how a prediction is computed (two forwards, or one
// batched forward of [uncond, cond]).
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "models/dit.h"
#include "src/scheduler.h"

// What every family's loop is asked (the families' options add their sampler).
struct svg_denoise_options {
    int steps = 50;
    float guidance = 5.0f;          // ≤ 1: no unconditional prediction
    bool dynamic_guidance = false;  // CogVideoX's use_dynamic_cfg (see svg_denoise)
    // Sparse VideoGen in self-attention (sparse.enabled), dense for the first
    // floor(sparse_dense_steps · steps) steps (the paper's warm-up); each
    // step profiles other rows (seed + 7919·step)
    dit_sparse_attention sparse;
    double sparse_dense_steps = 0.25;
    enum svg_type act = SVG_TYPE_F32;  // the transformer's activations
    // When set, filled with Sparse VideoGen's per-block head decisions
    // (reading them back costs a synchronization per forward).
    dit_sparse_stats *stats = nullptr;
    // called after every step: (steps done, steps)
    std::function<void(int, int)> progress;
    // polled before every step: true stops the loop, and svg_denoise
    // returns false with a "cancelled" error
    std::function<bool()> cancel;
};

// The model's prediction for `latents` at timestep t into *cond, and into
// *uncond unless it is NULL (no guidance); sparse: this step's settings.
using svg_predict_fn = std::function<bool(const std::vector<float> &latents, float t, const dit_sparse_attention &sparse,
                                          std::vector<float> *cond, std::vector<float> *uncond)>;

// Run every step of sched on latents (replaced by the result). Guidance:
// v = v_u + g·(v_c − v_u); with dynamic_guidance, at timestep t of N steps
// g_t = 1 + g·(1 − cos(π·((N − t)/N)^5))/2, as the CogVideoX pipelines
// compute it.
bool svg_denoise(svg_scheduler &sched, std::vector<float> &latents, const svg_denoise_options &opt, const svg_predict_fn &predict);

// Seeded standard normal values, drawn on the CPU so every backend starts
// from the same noise: mt19937_64 + Box–Muller in double.
std::vector<float> svg_noise(size_t n, uint64_t seed);
