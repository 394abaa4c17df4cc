// Shared pieces of the video diffusion transformers (models/dit.h).
#include "models/dit.h"

#include <cmath>

#include "src/svg-impl.h"

svg_tensor *dit_attention(svg_context *ctx, svg_tensor *q, svg_tensor *k, svg_tensor *v, int64_t heads, int64_t head_dim,
                          const svg_sparse_layout *layout, const dit_sparse_attention *sparse, uint32_t seed, svg_tensor *key_mask,
                          svg_tensor *bias) {
    if (!q || !k || !v) return nullptr;
    if (layout && bias) return svg_err<svg_tensor *>(nullptr, "dit_attention: Sparse VideoGen takes a key mask, not a bias");
    const int perm[4] = {0, 2, 1, 3};
    auto split = [&](svg_tensor *x) {  // [B, L, H·D] → [B, L, H, D]
        const int64_t ne[4] = {x->ne[0], x->ne[1], heads, head_dim};
        return svg_reshape(ctx, x, 4, ne);
    };
    auto as_heads = [&](svg_tensor *x) { return svg_permute(ctx, x, perm); };  // [B, L, H, D] viewed as [B, H, L, D]
    const float scale = 1.0f / std::sqrt((float)head_dim);
    svg_tensor *o;
    if (layout) {
        svg_tensor *kinds =
            svg_sparse_profile(ctx, as_heads(split(q)), as_heads(split(k)), as_heads(split(v)), key_mask, scale, layout, sparse->rows, seed);
        if (kinds && sparse->kinds) {
            svg_set_output(kinds);
            sparse->kinds->push_back(kinds);
        }
        auto moved = [&](svg_tensor *x) { return as_heads(svg_sparse_permute(ctx, split(x), kinds, layout, false)); };
        o = svg_attention_sparse(ctx, moved(q), moved(k), moved(v), key_mask, scale, layout);
        o = kinds && o ? svg_sparse_permute(ctx, o, kinds, layout, true) : nullptr;
    } else {
        o = svg_attention(ctx, as_heads(split(q)), as_heads(split(k)), as_heads(split(v)), bias, key_mask, scale, false);
    }
    return o ? svg_reshape_3d(ctx, o, o->ne[0], o->ne[1], heads * head_dim) : nullptr;
}

svg_sparse_layout dit_sparse_layout(int64_t text_before, int64_t frames, int64_t tokens_per_frame, int64_t text_after, double density) {
    svg_sparse_layout l{text_before, frames, tokens_per_frame, text_after, 1, 0};
    l.band = svg_sparse_band_for_density(&l, density, 128);
    return l;
}

bool dit_sparse_stats::add(const std::vector<svg_tensor *> &kinds, int64_t layers, bool sparse) {
    spatial.resize((size_t)layers);
    temporal.resize((size_t)layers);
    (sparse ? sparse_forwards : dense_forwards)++;
    if ((int64_t)kinds.size() > layers) return svg_err(false, "sparse stats: %zu sparse blocks in %lld layers", kinds.size(), (long long)layers);
    for (size_t i = 0; i < kinds.size(); i++) {
        std::vector<float> kd((size_t)svg_nelements(kinds[i]));
        if (!svg_tensor_get_f32(kinds[i], kd.data(), (int64_t)kd.size())) return false;
        const size_t layer = (size_t)layers - kinds.size() + i;
        for (size_t j = 0; j < kd.size(); j += 3) (kd[j] >= 0.5f ? temporal : spatial)[layer]++;
    }
    return true;
}

bool dit_patch_grid(const char *model, const int64_t size[3], const int64_t patch[3], int64_t grid[3]) {
    for (int a = 0; a < 3; a++) {
        grid[a] = patch[a] > 0 ? size[a] / patch[a] : 0;
        if (grid[a] == 0 || grid[a] * patch[a] != size[a])
            return svg_err(false, "%s: latent size %lldx%lldx%lld (frames, height, width) is not a multiple of the patch %lldx%lldx%lld", model,
                           (long long)size[0], (long long)size[1], (long long)size[2], (long long)patch[0], (long long)patch[1], (long long)patch[2]);
    }
    return true;
}

bool dit_check_text_and_time(const char *model, const svg_tensor *text, const svg_tensor *t, int64_t B, int64_t dim) {
    if (text->n_dims != 3 || text->ne[0] != B || text->ne[2] != dim)
        return svg_err(false, "%s: encoder_hidden_states %s must be [%lld, L, %lld]", model, svg_shape_string(text).c_str(), (long long)B,
                       (long long)dim);
    if (t->n_dims != 1 || t->ne[0] != B) return svg_err(false, "%s: timestep %s must be [%lld]", model, svg_shape_string(t).c_str(), (long long)B);
    return true;
}

bool dit_check_sparse(const char *model, const dit_sparse_attention *sparse) {
    if (sparse && sparse->enabled && (!(sparse->density > 0.0) || sparse->rows < 1))
        return svg_err(false, "%s: sparse attention needs a density > 0 and ≥ 1 profiled row (got %g, %d)", model, sparse->density, sparse->rows);
    return true;
}
