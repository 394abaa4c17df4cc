// Wan 2.1 diffusion transformer (T2V and I2V), as diffusers'
// WanTransformer3DModel.
#pragma once

#include <vector>

#include "models/dit.h"
#include "models/model-file.h"

struct wan_transformer {
    int64_t dim = 0, heads = 0, head_dim = 0, in_channels = 0, out_channels = 0;
    int64_t text_dim = 0, freq_dim = 0, ffn_dim = 0, layers = 0, image_dim = 0;
    int64_t patch[3] = {1, 2, 2};
    bool cross_attn_norm = true, has_image = false;
    float eps = 1e-6f;
    svg_component_weights w;
};

// Sparse VideoGen's layout of the self-attention of latents [B, C, frames,
// height, width]: frames × tokens-per-frame after patching, no text (text
// enters by cross-attention), one sink frame, the band of the target density.
svg_sparse_layout wan_sparse_layout(const wan_transformer &m, int64_t frames, int64_t height, int64_t width, double density);

// Read the hyper-parameters and upload the weights of the "transformer"
// component to the backend.
bool wan_transformer_load(const svg_gguf *f, svg_backend *be, wan_transformer *m);

// Build the forward pass.
//   x      [B, in_channels, F, H, W] latents (F, H, W divisible by the patch)
//   t      [B] f32 timesteps
//   text   [B, Lt, text_dim]
//   image  [B, Li, image_dim] CLIP image tokens (I2V), or NULL
//   act    activation type the blocks compute in (f32 on the CPU)
// → [B, out_channels, F, H, W] in act. Position tables go to host_inputs.
svg_tensor *wan_transformer_forward(svg_context *ctx, const wan_transformer &m, svg_tensor *x, svg_tensor *t,
                                    svg_tensor *text, svg_tensor *image, enum svg_type act,
                                    svg_host_inputs *host_inputs, const dit_sparse_attention *sparse = nullptr);
