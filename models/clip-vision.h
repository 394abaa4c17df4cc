// CLIP vision encoder (transformers CLIPVisionModel / CLIPVisionModelWithProjection),
// Wan 2.1 I2V's image encoder (open-clip ViT-H/14 in the release). Wan feeds
// the penultimate layer's hidden states, before the post-layernorm, to its
// cross-attention, so that is what the forward returns.
#pragma once

#include "models/model-file.h"

struct clip_vision {
    int64_t hidden = 0, intermediate = 0, heads = 0, layers = 0;
    int64_t patch = 0, image_size = 0, channels = 3;
    float eps = 1e-5f;
    enum { ACT_QUICK_GELU, ACT_GELU, ACT_GELU_TANH } act = ACT_QUICK_GELU;
    svg_component_weights w;
};

// Read the hyper-parameters and upload the weights of the "image_encoder"
// component to the backend.
bool clip_vision_load(const svg_gguf *f, svg_backend *be, clip_vision *m);

// pixel_values [B, channels, image_size, image_size] f32 (CLIPImageProcessor's
// output, src/image.h) → [B, 1 + (image_size / patch)², hidden] f32: the
// hidden states after layer num_hidden_layers − 2 (transformers'
// hidden_states[-2]). host_inputs is unused today (the encoder needs no
// host-computed tables) and kept for the models' common signature.
svg_tensor *clip_vision_forward(svg_context *ctx, const clip_vision &m, svg_tensor *pixel_values,
                                svg_host_inputs *host_inputs);
