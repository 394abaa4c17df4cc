// The Wan 2.1 denoising loop: classifier-free guidance around the
// transformer, stepped by a flow sampler. Latents live on the host between
// steps (a few MB), so the loop is backend-agnostic.
#pragma once

#include <functional>
#include <vector>

#include "models/denoise.h"
#include "models/umt5.h"
#include "models/wan-vae.h"
#include "models/wan.h"
#include "src/tokenizer.h"
#include "src/scheduler.h"

struct wan_denoise_inputs {
    std::vector<int64_t> latent_shape;            // [B, 16, F, H, W]
    std::vector<float> latents;                   // initial noise, replaced by the result
    std::vector<int64_t> text_shape;              // [B, L, text_dim]
    std::vector<float> cond, uncond;              // prompt / negative prompt embeddings
    std::vector<int64_t> condition_shape;         // I2V: [B, 20, F, H, W] mask + image latents
    std::vector<float> condition;                 // I2V, else empty
    std::vector<int64_t> image_shape;             // I2V: [B, 257, image_dim] CLIP tokens
    std::vector<float> image;
};

struct wan_denoise_options {
    int steps = 50;
    float guidance = 5.0f;  // ≤ 1: no unconditional forward
    float shift = 3.0f;
    svg_flow_sampler::kind_t sampler = svg_flow_sampler::UNIPC;
    enum svg_type act = SVG_TYPE_F32;
    // Sparse VideoGen in self-attention (sparse.enabled), dense for the first
    // floor(sparse_dense_steps · steps) steps (the paper's warm-up)
    dit_sparse_attention sparse;
    double sparse_dense_steps = 0.25;
    // When set, filled with Sparse VideoGen's per-block head decisions
    // (reading them back costs a synchronization per forward).
    dit_sparse_stats *stats = nullptr;
    // called after every step: (step done, steps)
    std::function<void(int, int)> progress;
    // polled before every transformer forward: true stops the loop, and
    // wan_denoise returns false with a "cancelled" error
    std::function<bool()> cancel;
};

bool wan_denoise(const wan_transformer &m, svg_backend *be, wan_denoise_inputs &in, const wan_denoise_options &opt);

// The pipeline's prompt encoding: clean the text, tokenize (eos appended,
// truncated to max_len), encode only the real tokens with the text encoder,
// then zero-pad to max_len rows → emb [max_len × d_model].
bool wan_encode_prompt(const svg_tokenizer &tok, const umt5_encoder &te, svg_backend *be, const std::string &prompt, int max_len,
                       std::vector<float> *emb, int *n_tokens);

// I2V conditioning from the first frame, as WanImageToVideoPipeline:
//   video = [image, 0, 0, …] (num_frames frames), z = normalize(VAE mean(video)),
//   mask = 1 on latent frame 0 (all 4 mask channels), 0 elsewhere,
//   condition = concat(mask, z) on channels → [1, 4 + z_dim, T, h, w].
// image: [3, H, W] in [-1, 1].
bool wan_i2v_condition(const wan_vae &vae, svg_backend *be, const std::vector<float> &image, int height, int width, int num_frames,
                       std::vector<float> *condition, std::vector<int64_t> *shape);
