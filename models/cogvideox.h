// CogVideoX 1.5 diffusion transformer (T2V and I2V), as diffusers'
// CogVideoXTransformer3DModel with patch_size_t.
#pragma once

#include <vector>

#include "models/dit.h"
#include "models/model-file.h"

struct cogvideox_transformer {
    int64_t dim = 0, heads = 0, head_dim = 0, in_channels = 0, out_channels = 0;
    int64_t time_dim = 0, text_dim = 0, layers = 0, patch = 2, patch_t = 2, ofs_dim = 0;
    int64_t max_text = 226;
    bool affine = true;
    float eps = 1e-5f;
    svg_component_weights w;
};

bool cogvideox_transformer_load(const svg_gguf *f, svg_backend *be, cogvideox_transformer *m);

// Sparse VideoGen's layout of the joint sequence: text_len text tokens first,
// then the video frame-major (frames / patch_t × patched positions).
svg_sparse_layout cogvideox_sparse_layout(const cogvideox_transformer &m, int64_t text_len, int64_t frames, int64_t height,
                                          int64_t width, double density);

// 3D RoPE of the joint sequence: per token its (frame, row, column) —
// text_len text tokens at 0 (unrotated), then the video's patches in order —
// as [(text_len + frames·rows·cols) × 3] positions, and how many of each
// head's dims rotate with each axis (1/4, 3/8, 3/8; θ = 10000, interleaved
// pairs). The 1.5 pipeline's grid: integer patch coordinates.
std::vector<float> cogvideox_rope_positions(int64_t text_len, int64_t frames, int64_t rows, int64_t cols);
void cogvideox_rope_axes(const cogvideox_transformer &m, int axes[3]);

// Build the forward pass.
//   x     [B, F, in_channels, H, W] latents (I2V: noise and image latents
//         concatenated on channels); F a multiple of patch_t, H and W of patch
//   t     [B] f32 timesteps
//   text  [B, Lt, text_dim] T5 embeddings
//   ofs   [B] f32 (I2V models with an ofs embedding; the pipelines give 2.0), or NULL
// → [B, F, out_channels, H, W] in act. The 3D RoPE table (integer positions
// frame, row, column of each patch; text unrotated) goes to host_inputs.
svg_tensor *cogvideox_transformer_forward(svg_context *ctx, const cogvideox_transformer &m, svg_tensor *x, svg_tensor *t,
                                          svg_tensor *text, svg_tensor *ofs, enum svg_type act, svg_host_inputs *host_inputs,
                                          const dit_sparse_attention *sparse = nullptr);
