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

// The shared settings (models/denoise.h) and Wan's flow sampler.
struct wan_denoise_options : svg_denoise_options {
    float shift = 3.0f;
    svg_flow_sampler::kind_t sampler = svg_flow_sampler::UNIPC;
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
