// HunyuanVideo diffusion transformer (diffusers HunyuanVideoTransformer3DModel),
// built from svg.h ops. Reads top to bottom like the reference forward:
//   condition = time MLP + pooled-CLIP MLP (+ guidance MLP)
//   patchify (conv3d with kernel = stride = patch)
//   token refiner over the text: masked self-attention blocks with gates
//     from (time + mean of the valid text tokens)
//   dual-stream blocks: separate adaLN / projections / FFN for video and
//     text, one joint attention [video | text] with QK RMSNorm and 3D RoPE
//     on the video tokens, padded text keys masked
//   single-stream blocks on [video | text]: one adaLN, fused attention + MLP
//   adaLN-continuous output norm, projection → unpatchify.
#include "models/hunyuan.h"

#include <cmath>
#include <string>

#include "src/svg-impl.h"

namespace {

using T = svg_tensor;

// Sinusoidal embedding of the condition MLPs: 256 dims, [cos | sin].
constexpr int kFreqDim = 256;
constexpr float kEps = 1e-6f;  // every LayerNorm and RMSNorm of the model

struct builder {
    svg_context *ctx;
    const hunyuan_transformer &m;
    const dit_sparse_attention *sparse;

    T *W(const std::string &name) const { return m.w.get(name); }
    T *linear(T *x, const std::string &name) const { return svg_linear(ctx, x, W(name + ".weight"), m.w.get_opt(name + ".bias")); }
    T *slice(T *x, int dim, int64_t a, int64_t b) const { return x ? svg_slice(ctx, x, dim, a, b, 1) : nullptr; }
    // tokens [a, b) of x [B, L, dim], contiguous (a copy only when B > 1)
    T *tokens(T *x, int64_t a, int64_t b) const {
        T *y = slice(x, 1, a, b);
        return y && !svg_is_contiguous(y) ? svg_cont(ctx, y) : y;
    }

    // linear_1 → SiLU → linear_2 (TimestepEmbedding, PixArtAlphaTextProjection)
    T *mlp2(T *x, const std::string &p) const { return linear(svg_silu(ctx, linear(x, p + ".linear_1")), p + ".linear_2"); }
    T *sinusoid(T *t) const { return svg_timestep_embedding(ctx, t, kFreqDim, true, 0.f, 1.f, 10000.f); }

    // n modulation vectors [B, n, dim] from the condition: linear(SiLU(c))
    T *modulation(T *c, const std::string &name, int64_t n) const {
        T *y = linear(svg_silu(ctx, c), name);
        return y ? svg_reshape_3d(ctx, y, y->ne[0], n, m.dim) : nullptr;
    }
    T *chunk(T *mod, int64_t k) const { return slice(mod, 1, k, k + 1); }
    // LayerNorm without affine, then ·(1 + scale) + shift
    T *norm_mod(T *x, T *scale, T *shift) const { return svg_norm_modulate(ctx, x, SVG_NORM_LAYER, kEps, nullptr, nullptr, scale, shift); }

    // [B, L, dim] → per-head RMSNorm, RoPE on the first `rotated` rows
    T *qk(T *y, const std::string &norm, T *pos, int64_t rotated) const {
        if (!y) return nullptr;
        const int64_t B = y->ne[0], L = y->ne[1];
        const int64_t ne[4] = {B, L, m.heads, m.head_dim};
        T *h = svg_rms_norm(ctx, svg_reshape(ctx, y, 4, ne), W(norm + ".weight"), kEps);
        if (pos && rotated > 0) {
            const int axes[3] = {(int)m.rope_axes[0], (int)m.rope_axes[1], (int)m.rope_axes[2]};
            T *v = svg_rope(ctx, rotated < L ? tokens(h, 0, rotated) : h, pos, 3, axes, m.rope_theta, SVG_ROPE_INTERLEAVED);
            h = rotated < L ? svg_concat(ctx, v, slice(h, 1, rotated, L), 1) : v;
        }
        return h ? svg_reshape_3d(ctx, h, B, L, m.dim) : nullptr;
    }

    // ---------------------------------------------------------- token refiner
    // text [B, Lt, text_dim] → [B, Lt, dim]. pool_w [B, 1, Lt]: the mask
    // divided by its sum (the mean over valid tokens); bias [B, 1, Lt, Lt]:
    // query i sees key j when both are tokens, and every query sees key 0.
    T *refiner(T *text, T *t, T *pool_w, T *bias) const {
        const std::string p = "context_embedder.";
        const int64_t B = text->ne[0];
        const int perm[3] = {0, 2, 1};
        T *pooled = svg_mul_mat(ctx, pool_w, svg_cont(ctx, svg_permute(ctx, text, perm)));  // [B, 1, text_dim]
        pooled = pooled ? svg_reshape_2d(ctx, pooled, B, text->ne[2]) : nullptr;
        T *c = svg_add(ctx, mlp2(sinusoid(t), p + "time.timestep_embedder"), mlp2(pooled, p + "time.text_embedder"));
        T *h = linear(text, p + "proj_in");
        for (int64_t i = 0; i < m.refiner_layers; i++) {
            const std::string b = p + "refiner." + std::to_string(i) + ".";
            T *gates = modulation(c, b + "norm_out.linear", 2);  // gate_msa, gate_mlp
            T *n = svg_layer_norm(ctx, h, W(b + "norm1.weight"), W(b + "norm1.bias"), kEps);
            T *o = dit_attention(ctx, linear(n, b + "attn.to_q"), linear(n, b + "attn.to_k"), linear(n, b + "attn.to_v"), m.heads, m.head_dim,
                                 nullptr, nullptr, 0, nullptr, bias);
            h = svg_add(ctx, h, svg_mul(ctx, linear(o, b + "attn.to_out.0"), chunk(gates, 0)));
            n = svg_layer_norm(ctx, h, W(b + "norm2.weight"), W(b + "norm2.bias"), kEps);
            T *ff = linear(svg_silu(ctx, linear(n, b + "ff.net.0.proj")), b + "ff.net.2");
            h = svg_add(ctx, h, svg_mul(ctx, ff, chunk(gates, 1)));
        }
        return h;
    }

    // ------------------------------------------------------- dual-stream block
    // video h [B, Lv, dim], text e [B, Lt, dim]; joint attention over [h | e]
    void dual_block(T **h, T **e, T *c, T *pos, T *key_mask, int64_t i, const svg_sparse_layout *layout) const {
        const std::string p = "transformer_blocks." + std::to_string(i) + ".", a = p + "attn.";
        const int64_t Lv = (*h)->ne[1], L = Lv + (*e)->ne[1];
        // six vectors each: shift, scale, gate (attention), shift, scale, gate (FFN)
        T *mv = modulation(c, p + "norm1.linear", 6), *mt = modulation(c, p + "norm1_context.linear", 6);
        T *nv = norm_mod(*h, chunk(mv, 1), chunk(mv, 0)), *nt = norm_mod(*e, chunk(mt, 1), chunk(mt, 0));
        T *q = svg_concat(ctx, qk(linear(nv, a + "to_q"), a + "norm_q", pos, Lv), qk(linear(nt, a + "add_q_proj"), a + "norm_added_q", nullptr, 0), 1);
        T *k = svg_concat(ctx, qk(linear(nv, a + "to_k"), a + "norm_k", pos, Lv), qk(linear(nt, a + "add_k_proj"), a + "norm_added_k", nullptr, 0), 1);
        T *v = svg_concat(ctx, linear(nv, a + "to_v"), linear(nt, a + "add_v_proj"), 1);
        T *o = dit_attention(ctx, q, k, v, m.heads, m.head_dim, layout, sparse, (sparse ? sparse->seed : 0) + (uint32_t)i, key_mask);
        *h = svg_add(ctx, *h, svg_mul(ctx, linear(tokens(o, 0, Lv), a + "to_out.0"), chunk(mv, 2)));
        *e = svg_add(ctx, *e, svg_mul(ctx, linear(tokens(o, Lv, L), a + "to_add_out"), chunk(mt, 2)));
        auto ffn = [&](T *x, T *mod, const std::string &f) {
            T *y = linear(svg_gelu_tanh(ctx, linear(norm_mod(x, chunk(mod, 4), chunk(mod, 3)), p + f + ".net.0.proj")), p + f + ".net.2");
            return svg_add(ctx, x, svg_mul(ctx, y, chunk(mod, 5)));
        };
        *h = ffn(*h, mv, "ff");
        *e = ffn(*e, mt, "ff_context");
    }

    // ----------------------------------------------------- single-stream block
    // x [B, Lv + Lt, dim]: attention and MLP side by side from one norm,
    // projected together: x + gate · proj_out([attn | GELU(proj_mlp)])
    T *single_block(T *x, T *c, T *pos, T *key_mask, int64_t Lv, int64_t i, const svg_sparse_layout *layout) const {
        const std::string p = "single_transformer_blocks." + std::to_string(i) + ".", a = p + "attn.";
        T *mod = modulation(c, p + "norm.linear", 3);  // shift, scale, gate
        T *n = norm_mod(x, chunk(mod, 1), chunk(mod, 0));
        T *q = qk(linear(n, a + "to_q"), a + "norm_q", pos, Lv), *k = qk(linear(n, a + "to_k"), a + "norm_k", pos, Lv);
        T *o = dit_attention(ctx, q, k, linear(n, a + "to_v"), m.heads, m.head_dim, layout, sparse,
                             (sparse ? sparse->seed : 0) + (uint32_t)(m.layers + i), key_mask);
        T *y = linear(svg_concat(ctx, o, svg_gelu_tanh(ctx, linear(n, p + "proj_mlp")), 2), p + "proj_out");
        return svg_add(ctx, x, svg_mul(ctx, y, chunk(mod, 2)));
    }
};

}  // namespace

bool hunyuan_transformer_load(const svg_gguf *f, svg_backend *be, hunyuan_transformer *m) {
    svg_component_config c;
    if (!svg_component_config_open(f, "transformer", &c)) return false;
    if (c.cls != "HunyuanVideoTransformer3DModel")
        return svg_err(false, "transformer class '%s' is not HunyuanVideoTransformer3DModel", c.cls.c_str());
    m->heads = c.int_or("num_attention_heads", 24);
    m->head_dim = c.int_or("attention_head_dim", 128);
    m->in_channels = c.int_or("in_channels", 16);
    m->out_channels = c.int_or("out_channels", 16);
    m->layers = c.int_or("num_layers", 20);
    m->single_layers = c.int_or("num_single_layers", 40);
    m->refiner_layers = c.int_or("num_refiner_layers", 2);
    m->text_dim = c.int_or("text_embed_dim", 4096);
    m->pooled_dim = c.int_or("pooled_projection_dim", 768);
    m->patch = c.int_or("patch_size", 2);
    m->patch_t = c.int_or("patch_size_t", 1);
    m->rope_theta = (float)c.float_or("rope_theta", 256.0);
    m->guidance_embeds = c.bool_or("guidance_embeds", true);
    m->dim = m->heads * m->head_dim;
    m->mlp_dim = (int64_t)(m->dim * c.float_or("mlp_ratio", 4.0));
    if (c.has("rope_axes_dim")) {
        std::vector<int64_t> axes;
        if (!c.get_ints("rope_axes_dim", &axes)) return false;
        if (axes.size() != 3) return svg_err(false, "transformer: rope_axes_dim must list 3 sizes (frames, rows, columns)");
        for (int a = 0; a < 3; a++) m->rope_axes[a] = axes[(size_t)a];
    }
    if (m->rope_axes[0] + m->rope_axes[1] + m->rope_axes[2] != m->head_dim || m->rope_axes[0] % 2 || m->rope_axes[1] % 2 || m->rope_axes[2] % 2)
        return svg_err(false, "transformer: rope_axes_dim %lld+%lld+%lld must be even sizes summing to attention_head_dim %lld",
                       (long long)m->rope_axes[0], (long long)m->rope_axes[1], (long long)m->rope_axes[2], (long long)m->head_dim);
    if (c.has("image_condition_type")) return svg_err(false, "transformer: image-to-video HunyuanVideo (image_condition_type) is not supported");
    if (m->patch < 1 || m->patch_t < 1) return svg_err(false, "transformer: patch sizes must be positive");
    if (!svg_component_weights_load(f, "transformer", be, &m->w)) return false;
    T *pe = m->w.get("x_embedder.proj.weight");
    if (!pe) return false;
    if (pe->n_dims != 5 || pe->ne[0] != m->dim || pe->ne[1] != m->in_channels || pe->ne[2] != m->patch_t || pe->ne[3] != m->patch ||
        pe->ne[4] != m->patch)
        return svg_err(false, "transformer: x_embedder.proj.weight is %s, the config says [%lld, %lld, %lld, %lld, %lld]",
                       svg_shape_string(pe).c_str(), (long long)m->dim, (long long)m->in_channels, (long long)m->patch_t, (long long)m->patch,
                       (long long)m->patch);
    if (m->guidance_embeds && !m->w.get("time_text_embed.guidance_embedder.linear_1.weight")) return false;
    for (int64_t i = 0; i < m->layers; i++)
        if (!m->w.get("transformer_blocks." + std::to_string(i) + ".norm1.linear.weight")) return false;
    for (int64_t i = 0; i < m->single_layers; i++)
        if (!m->w.get("single_transformer_blocks." + std::to_string(i) + ".proj_out.weight")) return false;
    return true;
}

std::vector<float> hunyuan_rope_positions(int64_t frames, int64_t rows, int64_t cols) {
    std::vector<float> pos((size_t)(frames * rows * cols) * 3);
    for (int64_t f = 0, l = 0; f < frames; f++)
        for (int64_t h = 0; h < rows; h++)
            for (int64_t w = 0; w < cols; w++, l++) {
                pos[(size_t)l * 3 + 0] = (float)f;
                pos[(size_t)l * 3 + 1] = (float)h;
                pos[(size_t)l * 3 + 2] = (float)w;
            }
    return pos;
}

svg_sparse_layout hunyuan_sparse_layout(const hunyuan_transformer &m, int64_t text_len, int64_t frames, int64_t height, int64_t width,
                                        double density) {
    return dit_sparse_layout(0, frames / m.patch_t, (height / m.patch) * (width / m.patch), text_len, density);
}

svg_tensor *hunyuan_transformer_forward(svg_context *ctx, const hunyuan_transformer &m, svg_tensor *x, svg_tensor *t, svg_tensor *text,
                                        const std::vector<float> &text_mask, svg_tensor *pooled, svg_tensor *guidance, enum svg_type act,
                                        svg_host_inputs *host, const dit_sparse_attention *sparse) {
    if (!x || !t || !text || !pooled) return svg_err<T *>(nullptr, "hunyuan: missing input");
    if (x->n_dims != 5 || x->ne[1] != m.in_channels)
        return svg_err<T *>(nullptr, "hunyuan: hidden_states %s must be [B, %lld, F, H, W]", svg_shape_string(x).c_str(), (long long)m.in_channels);
    const int64_t B = x->ne[0], p = m.patch, pt = m.patch_t;
    const int64_t size[3] = {x->ne[2], x->ne[3], x->ne[4]}, patch[3] = {pt, p, p};
    int64_t grid[3];
    if (!dit_patch_grid("hunyuan", size, patch, grid) || !dit_check_text_and_time("hunyuan", text, t, B, m.text_dim) ||
        !dit_check_sparse("hunyuan", sparse))
        return nullptr;
    const int64_t F = grid[0], Hp = grid[1], Wp = grid[2];
    const int64_t Lt = text->ne[1];
    if ((int64_t)text_mask.size() != B * Lt)
        return svg_err<T *>(nullptr, "hunyuan: the text mask has %zu values for %lldx%lld tokens", text_mask.size(), (long long)B, (long long)Lt);
    if (pooled->n_dims != 2 || pooled->ne[0] != B || pooled->ne[1] != m.pooled_dim)
        return svg_err<T *>(nullptr, "hunyuan: pooled_projections %s must be [%lld, %lld]", svg_shape_string(pooled).c_str(), (long long)B,
                            (long long)m.pooled_dim);
    if (m.guidance_embeds && (!guidance || guidance->n_dims != 1 || guidance->ne[0] != B))
        return svg_err<T *>(nullptr, "hunyuan: this model embeds guidance: one value per batch item is needed");
    const bool sparse_on = sparse && sparse->enabled;
    const int64_t Lv = F * Hp * Wp, L = Lv + Lt;

    // Host tables from the text mask: the refiner's pooling weights and
    // attention bias, and the joint sequence's key mask (the video and the
    // first sum(mask) text tokens).
    std::vector<float> pool_w((size_t)(B * Lt)), bias((size_t)(B * Lt * Lt)), key_mask((size_t)(B * L), 0.f);
    for (int64_t b = 0; b < B; b++) {
        const float *mk = text_mask.data() + b * Lt;
        double n = 0;
        for (int64_t j = 0; j < Lt; j++) n += mk[j] != 0.f;
        if (n == 0) return svg_err<T *>(nullptr, "hunyuan: batch item %lld has no text token in its mask", (long long)b);
        for (int64_t j = 0; j < Lt; j++) pool_w[(size_t)(b * Lt + j)] = (float)((mk[j] != 0.f) / n);
        for (int64_t i = 0; i < Lt; i++)
            for (int64_t j = 0; j < Lt; j++)
                bias[(size_t)((b * Lt + i) * Lt + j)] = (j == 0 || (mk[i] != 0.f && mk[j] != 0.f)) ? 0.f : -INFINITY;
        for (int64_t j = 0; j < Lv + (int64_t)n; j++) key_mask[(size_t)(b * L + j)] = 1.f;
    }
    const int64_t pool_ne[3] = {B, 1, Lt}, bias_ne[4] = {B, 1, Lt, Lt}, mask_ne[2] = {B, L}, pos_ne[2] = {Lv, 3};
    T *pool_t = host->add(ctx, 3, pool_ne, std::move(pool_w), "hunyuan.text_pool");
    T *bias_t = host->add(ctx, 4, bias_ne, std::move(bias), "hunyuan.refiner_bias");
    T *mask_t = host->add(ctx, 2, mask_ne, std::move(key_mask), "hunyuan.key_mask");
    T *pos = host->add(ctx, 2, pos_ne, hunyuan_rope_positions(F, Hp, Wp), "hunyuan.rope_pos");

    builder b{ctx, m, sparse};
    // condition: time + pooled CLIP (+ guidance), each through its MLP
    T *c = svg_add(ctx, b.mlp2(b.sinusoid(t), "time_text_embed.timestep_embedder"), b.mlp2(svg_cast(ctx, pooled, act), "time_text_embed.text_embedder"));
    if (m.guidance_embeds) c = svg_add(ctx, c, b.mlp2(b.sinusoid(guidance), "time_text_embed.guidance_embedder"));

    // patchify: conv3d with kernel = stride = patch, then tokens [B, Lv, dim]
    const int stride[3] = {(int)pt, (int)p, (int)p}, pad[6] = {0, 0, 0, 0, 0, 0};
    T *h = svg_conv3d(ctx, svg_cast(ctx, x, act), b.W("x_embedder.proj.weight"), m.w.get_opt("x_embedder.proj.bias"), stride, pad);
    h = h ? svg_cont(ctx, svg_transpose(ctx, svg_reshape_3d(ctx, h, B, m.dim, Lv), 1, 2)) : nullptr;

    T *e = b.refiner(svg_cast(ctx, text, act), t, pool_t, bias_t);
    if (!h || !e || !c) return nullptr;

    const svg_sparse_layout layout = hunyuan_sparse_layout(m, Lt, x->ne[2], x->ne[3], x->ne[4], sparse_on ? sparse->density : 1.0);
    auto block_layout = [&](int64_t i) { return sparse_on && sparse->sparse_block(i) ? &layout : nullptr; };
    for (int64_t i = 0; i < m.layers; i++) b.dual_block(&h, &e, c, pos, mask_t, i, block_layout(i));
    T *hs = svg_concat(ctx, h, e, 1);
    for (int64_t i = 0; i < m.single_layers; i++) hs = b.single_block(hs, c, pos, mask_t, Lv, i, block_layout(m.layers + i));
    h = b.tokens(hs, 0, Lv);

    // output: adaLN-continuous (scale first, then shift), projection to patches
    T *mod = b.modulation(c, "norm_out.linear", 2);
    h = b.linear(b.norm_mod(h, b.chunk(mod, 0), b.chunk(mod, 1)), "proj_out");

    // unpatchify: [B, F, H, W, Co, pt, p, p] → [B, Co, F·pt, H·p, W·p]
    const int64_t Co = m.out_channels;
    const int64_t ne_out[8] = {B, F, Hp, Wp, Co, pt, p, p};
    const int perm_out[8] = {0, 4, 1, 5, 2, 6, 3, 7};
    h = svg_cont(ctx, svg_permute(ctx, svg_reshape(ctx, h, 8, ne_out), perm_out));
    const int64_t ne5[5] = {B, Co, F * pt, Hp * p, Wp * p};
    return svg_reshape(ctx, h, 5, ne5);
}
