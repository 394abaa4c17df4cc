// The CogVideoX 1.5 pipeline stages, as diffusers' CogVideoXPipeline and
// CogVideoXImageToVideoPipeline: T5 prompt embeddings over all 226 token
// slots, the DDIM / DPM denoising loop with classifier-free guidance batched
// as [uncond, cond] in one forward, I2V image latents from the VAE posterior,
// and the decode of the latents. Latents are [1, F, C, h, w] (frames before
// channels, as the reference keeps them) on the host.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "models/cogvideox-vae.h"
#include "models/cogvideox.h"
#include "models/denoise.h"
#include "models/umt5.h"
#include "src/scheduler.h"
#include "src/tokenizer.h"

// The sampler the file's scheduler config names (svg.scheduler._class_name:
// CogVideoXDDIMScheduler or CogVideoXDPMScheduler) and its schedule.
bool cogvideox_scheduler_from_file(const svg_gguf *f, svg_ddpm_sampler::kind_t *kind, svg_ddpm_config *cfg);

// Latent frames of a num_frames video: (num_frames − 1)/4 + 1, plus the
// frames put in front so that patch_size_t divides them (`padding`; the
// decode drops them again).
struct cogvideox_frames {
    int64_t latent = 0, padding = 0;
};
cogvideox_frames cogvideox_latent_frames(int64_t patch_t, int64_t num_frames, int64_t temporal_ratio = 4);

struct cogvideox_denoise_inputs {
    std::vector<int64_t> latent_shape;  // [1, F, C, h, w], F a multiple of patch_size_t
    std::vector<float> latents;         // initial noise, replaced by the result
    std::vector<int64_t> text_shape;    // [1, L, text_dim]
    std::vector<float> cond, uncond;    // prompt / negative prompt embeddings
    std::vector<float> image_latents;   // I2V: the latents' shape, else empty
};

// The shared settings (models/denoise.h; dynamic_guidance is the
// pipelines' use_dynamic_cfg) and CogVideoX's DDPM sampler.
struct cogvideox_denoise_options : svg_denoise_options {
    cogvideox_denoise_options() { guidance = 6.0f; }
    svg_ddpm_sampler::kind_t sampler = svg_ddpm_sampler::DDIM;
    svg_ddpm_config schedule;
    uint64_t seed = 0;  // DPM's noise
};

bool cogvideox_denoise(const cogvideox_transformer &m, svg_backend *be, cogvideox_denoise_inputs &in, const cogvideox_denoise_options &opt);

// The pipeline's prompt encoding: tokenize (eos appended), pad with id 0 to
// max_len and encode every slot, padding included, without an attention
// mask (the reference passes none) → emb [max_len × d_model].
bool cogvideox_encode_prompt(const svg_tokenizer &tok, const umt5_encoder &te, svg_backend *be, const std::string &prompt, int max_len,
                             std::vector<float> *emb, int *n_tokens);

// I2V: the first frame image [3, H, W] in [−1, 1] through the VAE encoder as
// a one-frame video, a posterior sample (mean + exp(logvar/2)·ε, ε seeded),
// scaled by the VAE's scaling factor (divided with invert_scale_latents),
// then zero frames up to `frames` latent frames → [1, frames, C, h, w].
bool cogvideox_image_latents(const cogvideox_vae &vae, svg_backend *be, const std::vector<float> &image, int height, int width,
                             int64_t frames, uint64_t seed, std::vector<float> *latents);

// The decode of CogVideoXPipeline: latents [1, F, C, h, w] without their
// first `skip` frames, divided by the scaling factor, through the VAE →
// video [1, 3, frames, H, W] in about [−1, 1] (unclamped).
bool cogvideox_decode_latents(const cogvideox_vae &vae, svg_backend *be, const std::vector<float> &latents,
                              const std::vector<int64_t> &shape, int64_t skip, bool tiled, vae_tensor *video,
                              const vae_progress &progress = {});

