// HunyuanVideo diffusion transformer (diffusers HunyuanVideoTransformer3DModel,
// text-to-video), built from svg.h ops.
#pragma once

#include <vector>

#include "models/dit.h"
#include "models/model-file.h"

struct hunyuan_transformer {
    int64_t dim = 0, heads = 0, head_dim = 0, in_channels = 0, out_channels = 0;
    int64_t layers = 0, single_layers = 0, refiner_layers = 0, text_dim = 0, pooled_dim = 0;
    int64_t mlp_dim = 0, patch = 2, patch_t = 1;
    int64_t rope_axes[3] = {16, 56, 56};
    float rope_theta = 256.f;
    bool guidance_embeds = true;
    svg_component_weights w;
};

bool hunyuan_transformer_load(const svg_gguf *f, svg_backend *be, hunyuan_transformer *m);

// Sparse VideoGen's layout of the joint sequence: the video frame-major
// (frames / patch_t × patched positions), then text_len text tokens.
svg_sparse_layout hunyuan_sparse_layout(const hunyuan_transformer &m, int64_t text_len, int64_t frames, int64_t height, int64_t width,
                                        double density);

// Per video token its integer (frame, row, column) patch coordinates, the
// 3D RoPE positions [frames·rows·cols × 3] (the axes rotate rope_axes[a]
// dims each, interleaved pairs, θ = rope_theta).
std::vector<float> hunyuan_rope_positions(int64_t frames, int64_t rows, int64_t cols);

// Build the forward pass.
//   x         [B, in_channels, F, H, W] latents (F a multiple of patch_t, H and W of patch)
//   t         [B] f32 timesteps (0..1000)
//   text      [B, Lt, text_dim] Llama embeddings; text_mask [B, Lt] f32 (1 = token):
//             as the reference, the first sum(mask) text tokens are the ones
//             the video attends to (the pipelines pad on the right)
//   pooled    [B, pooled_dim] CLIP pooled output
//   guidance  [B] f32 embedded guidance (the pipelines give 1000·scale), NULL
//             for models without a guidance embedding
// → [B, out_channels, F, H, W] in act. Host-computed tables (RoPE positions,
// masks) go to host_inputs.
svg_tensor *hunyuan_transformer_forward(svg_context *ctx, const hunyuan_transformer &m, svg_tensor *x, svg_tensor *t, svg_tensor *text,
                                        const std::vector<float> &text_mask, svg_tensor *pooled, svg_tensor *guidance, enum svg_type act,
                                        svg_host_inputs *host_inputs, const dit_sparse_attention *sparse = nullptr);
