// CLIP vision encoder (transformers CLIPVisionModel / CLIPVisionModelWithProjection),
// Wan 2.1 I2V's image encoder (open-clip ViT-H/14 in the release). Wan feeds
// the penultimate layer's hidden states, before the post-layernorm, to its
// cross-attention, so that is what the forward returns.
#pragma once

#include <string>

#include "models/model-file.h"

// ---- the encoder layer CLIP's vision and text towers share (clip-text.h)

enum clip_activation { CLIP_ACT_QUICK_GELU, CLIP_ACT_GELU, CLIP_ACT_GELU_TANH };

// A config's hidden_act as transformers' ACT2FN maps it; false + error when
// unsupported (`component` names the component in the message).
bool clip_activation_parse(const std::string &hidden_act, const char *component, clip_activation *out);

// The hyper-parameters a layer needs.
struct clip_layer_config {
    int64_t hidden = 0, heads = 0;
    float eps = 1e-5f;
    clip_activation act = CLIP_ACT_QUICK_GELU;
};

// Layer i of a CLIP encoder (weights "encoder.layers.<i>.*" of w), pre-LN:
//   h + self_attention(layer_norm1(h)), then + fc2(act(fc1(layer_norm2(h)))).
// h [B, L, hidden]; key_mask [B, L] (nonzero = attend) or NULL; causal: the
// text tower's mask (query i sees keys j <= i).
svg_tensor *clip_encoder_layer(svg_context *ctx, const clip_layer_config &c, const svg_component_weights &w,
                               svg_tensor *h, int64_t i, svg_tensor *key_mask, bool causal);

// ---- the vision tower

struct clip_vision {
    int64_t hidden = 0, intermediate = 0, heads = 0, layers = 0;
    int64_t patch = 0, image_size = 0, channels = 3;
    float eps = 1e-5f;
    clip_activation act = CLIP_ACT_QUICK_GELU;
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
