// Llama text tower (transformers LlamaModel) built from svg.h ops, read like
// the reference forward:
//   token embedding → layers of [RMSNorm → self-attention (q/k/v with
//   rotary positions, rotate_half form; grouped kv heads; causal + padding
//   mask; scale 1/√head_dim) → o_proj, residual; RMSNorm → down(silu(gate) ·
//   up), residual] → final RMSNorm.
// Tensor names are transformers' LlamaModel names (convert/convert-llama.cpp
// strips the "model." of LlamaForCausalLM files).
#include "models/llama.h"

#include <cmath>
#include <string>
#include <vector>

#include "src/svg-impl.h"

namespace {

using T = svg_tensor;

std::string layer_prefix(int64_t i) { return "layers." + std::to_string(i) + "."; }

struct builder {
    svg_context *ctx;
    const llama_model &m;

    T *W(const std::string &name) const { return m.w.get(name); }
    T *linear(T *x, const std::string &name) const { return svg_linear(ctx, x, W(name + ".weight"), nullptr); }

    // [B, L, n·head_dim] → [B, L, n, head_dim]
    T *split_heads(T *y, int64_t n) const {
        if (!y) return nullptr;
        const int64_t ne[4] = {y->ne[0], y->ne[1], n, m.head_dim};
        return svg_reshape(ctx, y, 4, ne);
    }

    T *self_attention(T *x, T *pos, T *mask, const std::string &p) const {
        const int perm[4] = {0, 2, 1, 3};  // [B, L, H, D] → [B, H, L, D]
        const int axes[1] = {(int)m.head_dim};
        auto rope = [&](T *y) { return svg_rope(ctx, y, pos, 1, axes, m.rope_theta, SVG_ROPE_HALF_SPLIT); };
        T *q = rope(split_heads(linear(x, p + "q_proj"), m.heads));
        T *k = rope(split_heads(linear(x, p + "k_proj"), m.kv_heads));
        T *v = split_heads(linear(x, p + "v_proj"), m.kv_heads);
        if (!q || !k || !v) return nullptr;
        T *o = svg_attention(ctx, svg_permute(ctx, q, perm), svg_permute(ctx, k, perm), svg_permute(ctx, v, perm), nullptr,
                             mask, 1.0f / std::sqrt((float)m.head_dim), true);
        if (!o) return nullptr;
        return linear(svg_reshape_3d(ctx, o, o->ne[0], o->ne[1], m.heads * m.head_dim), p + "o_proj");
    }

    T *layer(T *h, T *pos, T *mask, int64_t i) const {
        const std::string p = layer_prefix(i);
        h = svg_add(ctx, h, self_attention(svg_rms_norm(ctx, h, W(p + "input_layernorm.weight"), m.eps), pos, mask, p + "self_attn."));
        T *n = svg_rms_norm(ctx, h, W(p + "post_attention_layernorm.weight"), m.eps);
        T *ff = svg_mul(ctx, svg_silu(ctx, linear(n, p + "mlp.gate_proj")), linear(n, p + "mlp.up_proj"));
        return svg_add(ctx, h, linear(ff, p + "mlp.down_proj"));
    }
};

// A 2-D weight of the expected shape, else an error naming it.
bool check_shape(const llama_model &m, const std::string &name, int64_t n0, int64_t n1) {
    T *t = m.w.get(name);
    if (!t) return false;
    if (t->n_dims != 2 || t->ne[0] != n0 || t->ne[1] != n1)
        return svg_err(false, "text_encoder: %s is %s, config says [%lld, %lld]", name.c_str(), svg_shape_string(t).c_str(),
                       (long long)n0, (long long)n1);
    return true;
}

}  // namespace

bool llama_load(const svg_gguf *f, svg_backend *be, llama_model *m) {
    svg_component_config c;
    if (!svg_component_config_open(f, "text_encoder", &c)) return false;
    if (c.cls != "LlamaModel" && c.cls != "LlamaForCausalLM")
        return svg_err(false, "text_encoder class '%s' is neither LlamaModel nor LlamaForCausalLM", c.cls.c_str());
    std::string act;
    double eps, theta;
    if (!c.get_int("vocab_size", &m->vocab) || !c.get_int("hidden_size", &m->hidden) ||
        !c.get_int("intermediate_size", &m->intermediate) || !c.get_int("num_attention_heads", &m->heads) ||
        !c.get_int("num_hidden_layers", &m->layers) || !c.get_float("rms_norm_eps", &eps))
        return false;
    // transformers ≥ 5 nests it (the converter flattens nested objects)
    if (!c.get_float(c.has("rope_parameters.rope_theta") ? "rope_parameters.rope_theta" : "rope_theta", &theta)) return false;
    // scaled RoPE variants (llama3, linear, …) change the frequencies
    std::string rope_type = "default";
    if (c.has("rope_parameters.rope_type") && !c.get_string("rope_parameters.rope_type", &rope_type)) return false;
    if (rope_type != "default") return svg_err(false, "text_encoder: rope_type '%s' not supported (default only)", rope_type.c_str());
    if (c.has("hidden_act") && (!c.get_string("hidden_act", &act) || act != "silu"))
        return svg_err(false, "text_encoder: hidden_act '%s' not supported (silu only)", act.c_str());
    if (c.bool_or("attention_bias", false) || c.bool_or("mlp_bias", false))
        return svg_err(false, "text_encoder: attention_bias / mlp_bias not supported");
    m->kv_heads = c.int_or("num_key_value_heads", m->heads);
    if (m->layers < 1 || m->heads < 1 || m->kv_heads < 1 || m->heads % m->kv_heads)
        return svg_err(false, "text_encoder: bad config (%lld layers, %lld heads, %lld kv heads)", (long long)m->layers,
                       (long long)m->heads, (long long)m->kv_heads);
    m->head_dim = c.int_or("head_dim", m->hidden / m->heads);
    if (m->head_dim < 2 || m->head_dim % 2) return svg_err(false, "text_encoder: head_dim %lld is not even", (long long)m->head_dim);
    m->eps = (float)eps;
    m->rope_theta = (float)theta;
    if (!svg_component_weights_load(f, "text_encoder", be, &m->w)) return false;
    // the shapes every later op depends on
    if (!check_shape(*m, "embed_tokens.weight", m->vocab, m->hidden)) return false;
    for (int64_t i = 0; i < m->layers; i++) {
        const std::string p = layer_prefix(i) + "self_attn.";
        if (!check_shape(*m, p + "q_proj.weight", m->heads * m->head_dim, m->hidden) ||
            !check_shape(*m, p + "k_proj.weight", m->kv_heads * m->head_dim, m->hidden) ||
            !check_shape(*m, layer_prefix(i) + "mlp.gate_proj.weight", m->intermediate, m->hidden))
            return false;
    }
    return true;
}

svg_tensor *llama_forward(svg_context *ctx, const llama_model &m, svg_tensor *ids, svg_tensor *mask, int64_t hidden_state,
                          svg_host_inputs *host, std::vector<svg_tensor *> *states) {
    if (!ids) return svg_err<T *>(nullptr, "llama: missing input_ids");
    if (ids->n_dims != 2) return svg_err<T *>(nullptr, "llama: input_ids %s must be [B, L]", svg_shape_string(ids).c_str());
    const int64_t n = hidden_state < 0 ? m.layers + 1 + hidden_state : hidden_state;
    if (n < 0 || n > m.layers)
        return svg_err<T *>(nullptr, "llama: hidden state %lld of %lld layers (0 … %lld, or negative from the end)",
                            (long long)hidden_state, (long long)m.layers, (long long)m.layers);
    const int64_t L = ids->ne[1];
    builder b{ctx, m};

    // positions 0 … L−1 for every row: transformers derives them from the
    // cache position, not from the mask (only layers use them)
    T *pos = nullptr;
    if (n > 0) {
        std::vector<float> positions((size_t)L);
        for (int64_t i = 0; i < L; i++) positions[(size_t)i] = (float)i;
        const int64_t pos_ne[2] = {L, 1};
        pos = host->add(ctx, 2, pos_ne, std::move(positions), "llama.positions");
    }

    T *h = svg_get_rows(ctx, b.W("embed_tokens.weight"), ids);
    if (states) states->assign(1, h);
    for (int64_t i = 0; i < n; i++) {
        h = b.layer(h, pos, mask, i);
        // the last entry of transformers' hidden_states is the final-normed one
        if (i + 1 == m.layers) h = svg_rms_norm(ctx, h, b.W("norm.weight"), m.eps);
        if (states) states->push_back(h);
    }
    return h;
}
