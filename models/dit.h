// What the video diffusion transformers share: multi-head attention on
// projected tokens, dense or Sparse VideoGen, and its settings.
#pragma once

#include <cstdint>
#include <vector>

#include "svg.h"

// Sparse VideoGen in a transformer's self-attention (svg.h): per call,
// online profiling picks each head's kind, the temporal heads' rows are
// permuted, and attention runs under the band mask of the target density.
// The first dense_layers blocks stay dense; which denoising steps stay dense
// is the caller's choice (enabled).
struct dit_sparse_attention {
    bool enabled = false;
    double density = 0.3;  // share of query-key pairs computed (text and sink included)
    int rows = 64;         // query rows sampled per head for profiling
    int dense_layers = 0;  // the first blocks stay dense
    uint32_t seed = 0;     // profiling's sample rows
    // When set, each sparse block's profiling result (svg_sparse_profile's
    // f32 [B, H, 3], marked as a graph output so it survives the compute)
    // is appended here in block order: what --svg-stats reads back.
    std::vector<svg_tensor *> *kinds = nullptr;
    // Whether block i runs sparse.
    bool sparse_block(int64_t i) const { return enabled && i >= dense_layers; }
};

// Multi-head attention of q [B, Lq, H·D] over k, v [B, Lk, H·D] (q and k
// already normed and rotated), scale 1/√D → [B, Lq, H·D]. With a layout
// (self-attention, Lq = Lk = its length), Sparse VideoGen: profile the heads
// on (q, k, v), move the temporal heads' rows, attend under the band mask,
// move them back; the profiling result goes to sparse.kinds when set.
// key_mask [B, Lk] (nonzero = attend; padded text) and bias (additive,
// broadcast to [B, H, Lq, Lk]; dense only) as svg_attention takes them.
svg_tensor *dit_attention(svg_context *ctx, svg_tensor *q, svg_tensor *k, svg_tensor *v, int64_t heads, int64_t head_dim,
                          const svg_sparse_layout *layout = nullptr, const dit_sparse_attention *sparse = nullptr, uint32_t seed = 0,
                          svg_tensor *key_mask = nullptr, svg_tensor *bias = nullptr);

// The checks every transformer forward makes of its inputs, false with an
// error naming the model ("wan: ...") and the input:
// the patch grid of latents frames × height × width under the patch
// pt × p_h × p_w (each a whole, nonzero number of patches) → grid[3];
bool dit_patch_grid(const char *model, const int64_t size[3], const int64_t patch[3], int64_t grid[3]);
// the text embeddings [B, L, dim] and timesteps [B];
bool dit_check_text_and_time(const char *model, const svg_tensor *text, const svg_tensor *t, int64_t B, int64_t dim);
// Sparse VideoGen's settings, when enabled: density > 0, at least one profiled row.
bool dit_check_sparse(const char *model, const dit_sparse_attention *sparse);

// The sparse layout of a forward whose video tokens are frames ×
// tokens_per_frame between text_before and text_after text tokens, one sink
// frame, the band of the target density (128-row blocks).
svg_sparse_layout dit_sparse_layout(int64_t text_before, int64_t frames, int64_t tokens_per_frame, int64_t text_after, double density);

// Per layer: heads decided spatial / temporal, summed over forwards.
struct dit_sparse_stats {
    std::vector<int64_t> spatial, temporal;
    int sparse_forwards = 0, dense_forwards = 0;
    double band_density = 1.0;  // density of the band mask of the sparse forwards
    // Count one computed forward's decisions (sparse.kinds filled by it); its
    // sparse blocks are the last kinds.size() of `layers`.
    bool add(const std::vector<svg_tensor *> &kinds, int64_t layers, bool sparse);
};
