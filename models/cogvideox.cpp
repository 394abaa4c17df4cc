// CogVideoX 1.5 diffusion transformer (diffusers CogVideoXTransformer3DModel,
// patch_size_t set), built from svg.h ops. Reads top to bottom like the
// reference forward:
//   time (+ ofs) embedding → patchify (video: 2×2×2 patches through a linear;
//   text: linear) → blocks of [expert adaLN (separate shift/scale/gate for
//   text and video tokens), joint text-first self-attention with per-head QK
//   LayerNorm and 3D RoPE on the video tokens, gated residuals; the same
//   around a tanh-GELU FFN] → final LayerNorm, adaLN, projection → unpatchify.
#include "models/cogvideox.h"

#include <cmath>
#include <string>

#include "src/svg-impl.h"

namespace {

using T = svg_tensor;

struct builder {
    svg_context *ctx;
    const cogvideox_transformer &m;
    const dit_sparse_attention *sparse;

    T *W(const std::string &name) const { return m.w.get(name); }
    T *linear(T *x, const std::string &name) const { return svg_linear(ctx, x, W(name + ".weight"), m.w.get_opt(name + ".bias")); }
    T *slice(T *x, int dim, int64_t a, int64_t b) const { return svg_slice(ctx, x, dim, a, b, 1); }

    // TimestepEmbedding: linear → SiLU → linear
    T *embedding(T *x, const std::string &p) const { return linear(svg_silu(ctx, linear(x, p + ".linear_1")), p + ".linear_2"); }

    // LayerNorm (affine when the model has it) of x, then ·(1 + scale) + shift
    T *norm_mod(T *x, const std::string &norm, T *scale, T *shift) const {
        return svg_norm_modulate(ctx, x, SVG_NORM_LAYER, m.eps, m.w.get_opt(norm + ".weight"), m.w.get_opt(norm + ".bias"), scale, shift);
    }

    // per-head LayerNorm of a [B, L, dim] projection, then RoPE (text rows sit
    // at position 0: no rotation)
    T *qk(T *y, const std::string &norm, T *pos) const {
        if (!y) return nullptr;
        const int64_t ne[4] = {y->ne[0], y->ne[1], m.heads, m.head_dim};
        T *h = svg_layer_norm(ctx, svg_reshape(ctx, y, 4, ne), W(norm + ".weight"), W(norm + ".bias"), 1e-6f);
        int axes[3];
        cogvideox_rope_axes(m, axes);
        h = svg_rope(ctx, h, pos, 3, axes, 10000.f, SVG_ROPE_INTERLEAVED);
        return h ? svg_reshape_3d(ctx, h, y->ne[0], y->ne[1], m.dim) : nullptr;
    }

    // One block on text e [B, Lt, dim] and video h [B, Lv, dim]; temb [B, time_dim].
    void block(T **e, T **h, T *temb, T *pos, int64_t i, const svg_sparse_layout *layout) const {
        const std::string p = "transformer_blocks." + std::to_string(i) + ".";
        const int64_t B = (*h)->ne[0], Lt = (*e)->ne[1];
        // six modulation vectors per LayerNormZero: shift, scale, gate, then the text's
        auto modulation = [&](const std::string &n) { return svg_reshape_3d(ctx, linear(svg_silu(ctx, temb), p + n + ".linear"), B, 6, m.dim); };
        auto chunk = [&](T *mod, int k) { return slice(mod, 1, k, k + 1); };
        // both token kinds normed and modulated by their own vectors, text first
        auto joint = [&](T *mod, const std::string &n) {
            return svg_concat(ctx, norm_mod(*e, p + n + ".norm", chunk(mod, 4), chunk(mod, 3)),
                              norm_mod(*h, p + n + ".norm", chunk(mod, 1), chunk(mod, 0)), 1);
        };
        // gated residuals: text rows [0, Lt), video rows after
        auto residual = [&](T *y, T *mod) {
            if (!y) return;
            *e = svg_add(ctx, *e, svg_mul(ctx, slice(y, 1, 0, Lt), chunk(mod, 5)));
            *h = svg_add(ctx, *h, svg_mul(ctx, slice(y, 1, Lt, y->ne[1]), chunk(mod, 2)));
        };

        T *mod1 = modulation("norm1");
        T *n = joint(mod1, "norm1");
        const std::string a = p + "attn1.";
        T *q = qk(linear(n, a + "to_q"), a + "norm_q", pos), *k = qk(linear(n, a + "to_k"), a + "norm_k", pos);
        T *o = dit_attention(ctx, q, k, linear(n, a + "to_v"), m.heads, m.head_dim, layout, sparse, (sparse ? sparse->seed : 0) + (uint32_t)i);
        residual(linear(o, a + "to_out.0"), mod1);

        T *mod2 = modulation("norm2");
        n = joint(mod2, "norm2");
        residual(linear(svg_gelu_tanh(ctx, linear(n, p + "ff.net.0.proj")), p + "ff.net.2"), mod2);
    }
};

}  // namespace

bool cogvideox_transformer_load(const svg_gguf *f, svg_backend *be, cogvideox_transformer *m) {
    svg_component_config c;
    if (!svg_component_config_open(f, "transformer", &c)) return false;
    if (c.cls != "CogVideoXTransformer3DModel")
        return svg_err(false, "transformer class '%s' is not CogVideoXTransformer3DModel", c.cls.c_str());
    if (!c.get_int("num_attention_heads", &m->heads) || !c.get_int("attention_head_dim", &m->head_dim) ||
        !c.get_int("in_channels", &m->in_channels) || !c.get_int("time_embed_dim", &m->time_dim) ||
        !c.get_int("text_embed_dim", &m->text_dim) || !c.get_int("num_layers", &m->layers) || !c.get_int("patch_size", &m->patch))
        return false;
    if (!c.has("patch_size_t")) return svg_err(false, "transformer: CogVideoX 1.0 (no patch_size_t) is not supported, 1.5 is");
    if (!c.get_int("patch_size_t", &m->patch_t)) return false;
    m->out_channels = c.int_or("out_channels", 16);
    m->ofs_dim = c.int_or("ofs_embed_dim", 0);
    m->max_text = c.int_or("max_text_seq_length", 226);
    m->affine = c.bool_or("norm_elementwise_affine", true);
    m->eps = (float)c.float_or("norm_eps", 1e-5);
    m->dim = m->heads * m->head_dim;
    if (m->head_dim % 16 || m->head_dim < 16)
        return svg_err(false, "transformer: attention_head_dim %lld must be a multiple of 16 (3D RoPE: 1/4 frames, 3/8 rows, 3/8 columns, "
                       "each an even number of dims)", (long long)m->head_dim);
    if (m->patch < 1 || m->patch_t < 1) return svg_err(false, "transformer: patch sizes must be positive");
    if (!svg_component_weights_load(f, "transformer", be, &m->w)) return false;
    T *pe = m->w.get("patch_embed.proj.weight");
    if (!pe) return false;
    if (pe->n_dims != 2 || pe->ne[0] != m->dim || pe->ne[1] != m->in_channels * m->patch_t * m->patch * m->patch)
        return svg_err(false, "transformer: patch_embed.proj.weight is %s, the config says [%lld, %lld]", svg_shape_string(pe).c_str(),
                       (long long)m->dim, (long long)(m->in_channels * m->patch_t * m->patch * m->patch));
    for (int64_t i = 0; i < m->layers; i++)
        if (!m->w.get("transformer_blocks." + std::to_string(i) + ".norm1.linear.weight")) return false;
    return true;
}

std::vector<float> cogvideox_rope_positions(int64_t text_len, int64_t frames, int64_t rows, int64_t cols) {
    std::vector<float> pos((size_t)(text_len + frames * rows * cols) * 3, 0.f);
    for (int64_t f = 0, l = text_len; f < frames; f++)
        for (int64_t h = 0; h < rows; h++)
            for (int64_t w = 0; w < cols; w++, l++) {
                pos[(size_t)l * 3 + 0] = (float)f;
                pos[(size_t)l * 3 + 1] = (float)h;
                pos[(size_t)l * 3 + 2] = (float)w;
            }
    return pos;
}

void cogvideox_rope_axes(const cogvideox_transformer &m, int axes[3]) {
    const int d = (int)m.head_dim;
    axes[0] = d / 4;
    axes[1] = axes[2] = d / 8 * 3;
}

svg_sparse_layout cogvideox_sparse_layout(const cogvideox_transformer &m, int64_t text_len, int64_t frames, int64_t height,
                                          int64_t width, double density) {
    return dit_sparse_layout(text_len, frames / m.patch_t, (height / m.patch) * (width / m.patch), 0, density);
}

svg_tensor *cogvideox_transformer_forward(svg_context *ctx, const cogvideox_transformer &m, svg_tensor *x, svg_tensor *t,
                                          svg_tensor *text, svg_tensor *ofs, enum svg_type act, svg_host_inputs *host,
                                          const dit_sparse_attention *sparse) {
    if (!x || !t || !text) return svg_err<T *>(nullptr, "cogvideox: missing input");
    if (x->n_dims != 5 || x->ne[2] != m.in_channels)
        return svg_err<T *>(nullptr, "cogvideox: hidden_states %s must be [B, F, %lld, H, W]", svg_shape_string(x).c_str(), (long long)m.in_channels);
    const int64_t B = x->ne[0], p = m.patch, pt = m.patch_t;
    const int64_t size[3] = {x->ne[1], x->ne[3], x->ne[4]}, patch[3] = {pt, p, p};
    int64_t grid[3];
    if (!dit_patch_grid("cogvideox", size, patch, grid) || !dit_check_text_and_time("cogvideox", text, t, B, m.text_dim) ||
        !dit_check_sparse("cogvideox", sparse))
        return nullptr;
    const int64_t F = grid[0], Hp = grid[1], Wp = grid[2];
    if (m.ofs_dim && (!ofs || ofs->n_dims != 1 || (ofs->ne[0] != B && ofs->ne[0] != 1)))
        return svg_err<T *>(nullptr, "cogvideox: this model takes an ofs value per batch item");
    const bool sparse_on = sparse && sparse->enabled;
    builder b{ctx, m, sparse};
    const int64_t Lt = text->ne[1], Lv = F * Hp * Wp;

    const int64_t pos_ne[2] = {Lt + Lv, 3};
    T *rope_pos = host->add(ctx, 2, pos_ne, cogvideox_rope_positions(Lt, F, Hp, Wp), "cogvideox.rope_pos");

    // time (+ ofs): sinusoidal [cos | sin] of the inner dim → MLP
    T *temb = b.embedding(svg_timestep_embedding(ctx, t, (int)m.dim, true, 0.f, 1.f, 10000.f), "time_embedding");
    if (m.ofs_dim) temb = svg_add(ctx, temb, b.embedding(svg_timestep_embedding(ctx, ofs, (int)m.ofs_dim, true, 0.f, 1.f, 10000.f), "ofs_embedding"));

    // patchify: [B, F·pt, C, H·p, W·p] → [B, F, H, W, C, pt, p, p] rows → linear
    const int64_t C = m.in_channels;
    const int64_t ne8[8] = {B, F, pt, C, Hp, p, Wp, p};
    const int perm_in[8] = {0, 1, 4, 6, 3, 2, 5, 7};
    T *h = svg_cont(ctx, svg_permute(ctx, svg_reshape(ctx, svg_cast(ctx, x, act), 8, ne8), perm_in));
    h = b.linear(svg_reshape_3d(ctx, h, B, Lv, C * pt * p * p), "patch_embed.proj");
    T *e = b.linear(svg_cast(ctx, text, act), "patch_embed.text_proj");

    const svg_sparse_layout layout = cogvideox_sparse_layout(m, Lt, x->ne[1], x->ne[3], x->ne[4], sparse_on ? sparse->density : 1.0);
    for (int64_t i = 0; i < m.layers; i++) b.block(&e, &h, temb, rope_pos, i, sparse_on && sparse->sparse_block(i) ? &layout : nullptr);

    // output: LayerNorm, then adaLN (shift, scale from temb), projection to patches
    h = svg_layer_norm(ctx, h, m.w.get_opt("norm_final.weight"), m.w.get_opt("norm_final.bias"), m.eps);
    T *mod = svg_reshape_3d(ctx, b.linear(svg_silu(ctx, temb), "norm_out.linear"), B, 2, m.dim);
    h = b.norm_mod(h, "norm_out.norm", b.slice(mod, 1, 1, 2), b.slice(mod, 1, 0, 1));
    h = b.linear(h, "proj_out");

    // unpatchify: [B, F, H, W, Co, pt, p, p] → [B, F·pt, Co, H·p, W·p]
    const int64_t Co = m.out_channels;
    const int64_t ne_out[8] = {B, F, Hp, Wp, Co, pt, p, p};
    const int perm_out[8] = {0, 1, 5, 4, 2, 6, 3, 7};
    h = svg_cont(ctx, svg_permute(ctx, svg_reshape(ctx, h, 8, ne_out), perm_out));
    const int64_t ne5[5] = {B, F * pt, Co, Hp * p, Wp * p};
    return svg_reshape(ctx, h, 5, ne5);
}
