// Wan 2.1 diffusion transformer (diffusers WanTransformer3DModel), built from
// svg.h ops. Reads top to bottom like the reference forward:
//   patchify (conv3d 1×2×2) → time / text / image embeddings → blocks of
//   [adaLN self-attention with QK-RMSNorm and 3D RoPE, cross-attention to
//   text (+ CLIP image tokens for I2V), adaLN FFN with tanh-GELU, gated
//   residuals] → output norm + modulation + projection → unpatchify.
#include "models/wan.h"

#include <cmath>
#include <string>

#include "src/svg-impl.h"

namespace {

using T = svg_tensor;

struct builder {
    svg_context *ctx;
    const wan_transformer &m;
    enum svg_type act;
    const dit_sparse_attention *sparse = nullptr;

    T *W(const std::string &name) const { return m.w.get(name); }
    T *linear(T *x, const std::string &name) const { return svg_linear(ctx, x, W(name + ".weight"), m.w.get_opt(name + ".bias")); }
    // a [B, n, dim] slice of the [B, 6, dim] modulation
    T *chunk(T *mod, int i) const { return svg_slice(ctx, mod, 1, i, i + 1, 1); }

    T *attend(T *q, T *k, T *v, const svg_sparse_layout *layout = nullptr, uint32_t seed = 0) const {
        return dit_attention(ctx, q, k, v, m.heads, m.head_dim, layout, sparse, seed);
    }

    T *self_attention(T *x, T *pos, const std::string &p, const svg_sparse_layout *layout, uint32_t seed) const {
        const int d = (int)m.head_dim;
        const int axes[3] = {d - 4 * (d / 6), 2 * (d / 6), 2 * (d / 6)};  // frames, height, width
        auto rope = [&](T *y) {
            if (!y) return (T *)nullptr;
            const int64_t ne[4] = {y->ne[0], y->ne[1], m.heads, m.head_dim};
            T *r = svg_rope(ctx, svg_reshape(ctx, y, 4, ne), pos, 3, axes, 10000.f, SVG_ROPE_INTERLEAVED);
            return r ? svg_reshape_3d(ctx, r, y->ne[0], y->ne[1], m.dim) : nullptr;
        };
        T *q = rope(svg_rms_norm(ctx, linear(x, p + ".to_q"), W(p + ".norm_q.weight"), m.eps));
        T *k = rope(svg_rms_norm(ctx, linear(x, p + ".to_k"), W(p + ".norm_k.weight"), m.eps));
        T *v = linear(x, p + ".to_v");
        return linear(attend(q, k, v, layout, seed), p + ".to_out.0");
    }

    T *cross_attention(T *x, T *text, T *image, const std::string &p) const {
        T *q = svg_rms_norm(ctx, linear(x, p + ".to_q"), W(p + ".norm_q.weight"), m.eps);
        T *k = svg_rms_norm(ctx, linear(text, p + ".to_k"), W(p + ".norm_k.weight"), m.eps);
        T *o = attend(q, k, linear(text, p + ".to_v"));
        if (image) {  // I2V: CLIP tokens through their own projections, summed
            T *ki = svg_rms_norm(ctx, linear(image, p + ".add_k_proj"), W(p + ".norm_added_k.weight"), m.eps);
            o = svg_add(ctx, o, attend(q, ki, linear(image, p + ".add_v_proj")));
        }
        return linear(o, p + ".to_out.0");
    }

    T *block(T *h, T *temb6, T *text, T *image, T *pos, int64_t i, const svg_sparse_layout *layout) const {
        const std::string p = "blocks." + std::to_string(i);
        // six modulation vectors: table + projected time embedding (f32)
        T *mod = svg_add(ctx, temb6, W(p + ".scale_shift_table"));
        T *shift = chunk(mod, 0), *scale = chunk(mod, 1), *gate = chunk(mod, 2);
        T *c_shift = chunk(mod, 3), *c_scale = chunk(mod, 4), *c_gate = chunk(mod, 5);

        T *n = svg_norm_modulate(ctx, h, SVG_NORM_LAYER, m.eps, nullptr, nullptr, scale, shift);
        h = svg_add(ctx, h, svg_mul(ctx, self_attention(n, pos, p + ".attn1", layout, (sparse ? sparse->seed : 0) + (uint32_t)i), gate));

        n = m.cross_attn_norm ? svg_layer_norm(ctx, h, W(p + ".norm2.weight"), W(p + ".norm2.bias"), m.eps) : h;
        h = svg_add(ctx, h, cross_attention(n, text, image, p + ".attn2"));

        n = svg_norm_modulate(ctx, h, SVG_NORM_LAYER, m.eps, nullptr, nullptr, c_scale, c_shift);
        T *ff = linear(svg_gelu_tanh(ctx, linear(n, p + ".ffn.net.0.proj")), p + ".ffn.net.2");
        return svg_add(ctx, h, svg_mul(ctx, ff, c_gate));
    }
};

}  // namespace

bool wan_transformer_load(const svg_gguf *f, svg_backend *be, wan_transformer *m) {
    svg_component_config c;
    if (!svg_component_config_open(f, "transformer", &c)) return false;
    if (c.cls != "WanTransformer3DModel")
        return svg_err(false, "transformer class '%s' is not WanTransformer3DModel", c.cls.c_str());
    std::vector<int64_t> patch;
    std::string qk_norm;
    double eps;
    if (!c.get_int("num_attention_heads", &m->heads) || !c.get_int("attention_head_dim", &m->head_dim) ||
        !c.get_int("in_channels", &m->in_channels) || !c.get_int("out_channels", &m->out_channels) ||
        !c.get_int("text_dim", &m->text_dim) || !c.get_int("freq_dim", &m->freq_dim) || !c.get_int("ffn_dim", &m->ffn_dim) ||
        !c.get_int("num_layers", &m->layers) || !c.get_ints("patch_size", &patch) || !c.get_float("eps", &eps) ||
        !c.get_string("qk_norm", &qk_norm))
        return false;
    if (patch.size() != 3 || patch[0] < 1 || patch[1] < 1 || patch[2] < 1) return svg_err(false, "transformer: patch_size must have 3 positive entries");
    if (qk_norm != "rms_norm_across_heads") return svg_err(false, "transformer: qk_norm '%s' not supported (rms_norm_across_heads only)", qk_norm.c_str());
    if (c.has("pos_embed_seq_len")) return svg_err(false, "transformer: pos_embed_seq_len (FLF2V) is not supported yet");
    for (int i = 0; i < 3; i++) m->patch[i] = patch[i];
    m->dim = m->heads * m->head_dim;
    m->eps = (float)eps;
    m->cross_attn_norm = c.bool_or("cross_attn_norm", false);
    m->image_dim = c.int_or("image_dim", 0);
    m->has_image = c.int_or("added_kv_proj_dim", 0) > 0;
    if (m->head_dim < 6 || m->head_dim % 2) return svg_err(false, "transformer: attention_head_dim %lld too small for 3D RoPE", (long long)m->head_dim);
    if (!svg_component_weights_load(f, "transformer", be, &m->w)) return false;
    // the shapes every later op depends on
    T *pe = m->w.get("patch_embedding.weight");
    if (!pe) return false;
    if (pe->n_dims != 5 || pe->ne[0] != m->dim || pe->ne[1] != m->in_channels || pe->ne[2] != m->patch[0] || pe->ne[3] != m->patch[1] || pe->ne[4] != m->patch[2])
        return svg_err(false, "transformer: patch_embedding.weight is %s, config says [%lld, %lld, %lld, %lld, %lld]", svg_shape_string(pe).c_str(),
                       (long long)m->dim, (long long)m->in_channels, (long long)m->patch[0], (long long)m->patch[1], (long long)m->patch[2]);
    for (int64_t i = 0; i < m->layers; i++)
        if (!m->w.get("blocks." + std::to_string(i) + ".scale_shift_table")) return false;
    return true;
}

svg_sparse_layout wan_sparse_layout(const wan_transformer &m, int64_t frames, int64_t height, int64_t width, double density) {
    return dit_sparse_layout(0, frames / m.patch[0], (height / m.patch[1]) * (width / m.patch[2]), 0, density);
}

svg_tensor *wan_transformer_forward(svg_context *ctx, const wan_transformer &m, svg_tensor *x, svg_tensor *t, svg_tensor *text,
                                    svg_tensor *image, enum svg_type act, svg_host_inputs *host, const dit_sparse_attention *sparse) {
    if (!x || !t || !text) return svg_err<T *>(nullptr, "wan: missing input");
    if (x->n_dims != 5 || x->ne[1] != m.in_channels)
        return svg_err<T *>(nullptr, "wan: hidden_states %s must be [B, %lld, F, H, W]", svg_shape_string(x).c_str(), (long long)m.in_channels);
    const int64_t B = x->ne[0];
    const int64_t size[3] = {x->ne[2], x->ne[3], x->ne[4]};
    int64_t grid[3];
    if (!dit_patch_grid("wan", size, m.patch, grid) || !dit_check_text_and_time("wan", text, t, B, m.text_dim) || !dit_check_sparse("wan", sparse))
        return nullptr;
    const int64_t F = grid[0], Hp = grid[1], Wp = grid[2];
    if (m.has_image && !image) return svg_err<T *>(nullptr, "wan: this I2V transformer needs encoder_hidden_states_image");
    if (!m.has_image && image) return svg_err<T *>(nullptr, "wan: encoder_hidden_states_image given to a T2V transformer");
    if (image && (image->n_dims != 3 || image->ne[0] != B || image->ne[2] != m.image_dim))
        return svg_err<T *>(nullptr, "wan: encoder_hidden_states_image %s must be [%lld, L, %lld]", svg_shape_string(image).c_str(), (long long)B, (long long)m.image_dim);
    builder b{ctx, m, act, sparse};
    const int64_t L = F * Hp * Wp;

    // 3D RoPE positions (frame, row, column) of each patch token
    std::vector<float> pos((size_t)L * 3);
    for (int64_t f = 0, l = 0; f < F; f++)
        for (int64_t h = 0; h < Hp; h++)
            for (int64_t w = 0; w < Wp; w++, l++) {
                pos[(size_t)l * 3 + 0] = (float)f;
                pos[(size_t)l * 3 + 1] = (float)h;
                pos[(size_t)l * 3 + 2] = (float)w;
            }
    const int64_t pos_ne[2] = {L, 3};
    T *rope_pos = host->add(ctx, 2, pos_ne, std::move(pos), "wan.rope_pos");

    // patchify: conv3d with kernel = stride = patch, then tokens [B, L, dim]
    const int stride[3] = {(int)m.patch[0], (int)m.patch[1], (int)m.patch[2]}, pad[6] = {0, 0, 0, 0, 0, 0};
    T *h = svg_conv3d(ctx, svg_cast(ctx, x, act), b.W("patch_embedding.weight"), m.w.get_opt("patch_embedding.bias"), stride, pad);
    h = svg_cont(ctx, svg_transpose(ctx, svg_reshape_3d(ctx, h, B, m.dim, L), 1, 2));

    // time: sinusoidal → MLP → temb; temb → SiLU → 6·dim modulation
    T *temb = svg_timestep_embedding(ctx, t, (int)m.freq_dim, true, 0.f, 1.f, 10000.f);
    temb = b.linear(svg_silu(ctx, b.linear(temb, "condition_embedder.time_embedder.linear_1")), "condition_embedder.time_embedder.linear_2");
    T *temb6 = b.linear(svg_silu(ctx, temb), "condition_embedder.time_proj");
    temb6 = svg_reshape_3d(ctx, temb6, B, 6, m.dim);

    // text: MLP with tanh-GELU; image (I2V): LayerNorm → MLP (GELU) → LayerNorm
    T *txt = b.linear(svg_gelu_tanh(ctx, b.linear(svg_cast(ctx, text, act), "condition_embedder.text_embedder.linear_1")),
                      "condition_embedder.text_embedder.linear_2");
    T *img = nullptr;
    if (image) {
        const std::string p = "condition_embedder.image_embedder.";
        img = svg_layer_norm(ctx, svg_cast(ctx, image, act), b.W(p + "norm1.weight"), b.W(p + "norm1.bias"), 1e-5f);
        img = b.linear(svg_gelu(ctx, b.linear(img, p + "ff.net.0.proj")), p + "ff.net.2");
        img = svg_layer_norm(ctx, img, b.W(p + "norm2.weight"), b.W(p + "norm2.bias"), 1e-5f);
    }

    const bool sparse_on = sparse && sparse->enabled;
    const svg_sparse_layout layout = wan_sparse_layout(m, x->ne[2], x->ne[3], x->ne[4], sparse_on ? sparse->density : 1.0);
    for (int64_t i = 0; i < m.layers; i++) h = b.block(h, temb6, txt, img, rope_pos, i, sparse_on && sparse->sparse_block(i) ? &layout : nullptr);

    // output: norm + (table + temb) modulation, projection to patches
    T *out_mod = svg_add(ctx, svg_reshape_3d(ctx, temb, B, 1, m.dim), b.W("scale_shift_table"));
    h = svg_norm_modulate(ctx, h, SVG_NORM_LAYER, m.eps, nullptr, nullptr, svg_slice(ctx, out_mod, 1, 1, 2, 1),
                          svg_slice(ctx, out_mod, 1, 0, 1, 1));
    h = b.linear(h, "proj_out");

    // unpatchify: [B, F, H, W, pt, ph, pw, C] → [B, C, F·pt, H·ph, W·pw]
    const int64_t C = m.out_channels;
    const int64_t ne8[8] = {B, F, Hp, Wp, m.patch[0], m.patch[1], m.patch[2], C};
    const int perm[8] = {0, 7, 1, 4, 2, 5, 3, 6};
    h = svg_cont(ctx, svg_permute(ctx, svg_reshape(ctx, h, 8, ne8), perm));
    const int64_t ne5[5] = {B, C, F * m.patch[0], Hp * m.patch[1], Wp * m.patch[2]};
    return svg_reshape(ctx, h, 5, ne5);
}
