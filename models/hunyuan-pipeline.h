// The HunyuanVideo pipeline stages, as diffusers' HunyuanVideoPipeline:
// Llama prompt embeddings (the prompt template, its tokens cropped, the
// third-from-last hidden state, 256 tokens with their mask), the CLIP-L
// pooled output, and the flow-matching Euler loop with embedded guidance
// (one forward per step; true classifier-free guidance with a negative
// prompt optional). Latents are [1, C, F, h, w] on the host.
#pragma once

#include <string>
#include <vector>

#include "models/denoise.h"
#include "models/hunyuan.h"

// One prompt's conditioning: Llama embeddings [len × text_dim] with their
// mask (1 = token), CLIP pooled [pooled_dim].
struct hunyuan_text {
    std::vector<float> embeds, mask, pooled;
    int64_t len = 0;
};

struct hunyuan_denoise_inputs {
    std::vector<int64_t> latent_shape;  // [1, C, F, h, w]
    std::vector<float> latents;         // initial noise, replaced by the result
    hunyuan_text cond, uncond;          // uncond: only with true CFG (guidance > 1)
};

// The shared settings (models/denoise.h; guidance is the true CFG scale,
// off by default as in the reference) and HunyuanVideo's own: the embedded
// guidance the distilled model is given (×1000) and the Euler schedule's shift.
struct hunyuan_denoise_options : svg_denoise_options {
    hunyuan_denoise_options() { guidance = 1.0f; }
    float embedded_guidance = 6.0f;
    double shift = 7.0;
};

bool hunyuan_denoise(const hunyuan_transformer &m, svg_backend *be, hunyuan_denoise_inputs &in, const hunyuan_denoise_options &opt);
