// CLIP text encoder (transformers CLIPTextTransformer) built from svg.h ops,
// read like the reference forward:
//   token + learned position embeddings → layers of the causal pre-LN encoder
//   layer CLIP's vision tower uses too (models/clip-vision.h) →
//   final_layer_norm → the state at the pooled position (→ text_projection).
// Tensor names are transformers' without the "text_model." prefix
// (convert/convert-clip.cpp strips it).
#include "models/clip-text.h"

#include <string>
#include <vector>

#include "src/svg-impl.h"

namespace {

using T = svg_tensor;

// A 2-D weight of the expected shape, else an error naming it.
bool check_shape(const clip_text &m, const char *component, const std::string &name, int64_t n0, int64_t n1) {
    T *t = m.w.get(name);
    if (!t) return false;
    if (t->n_dims != 2 || t->ne[0] != n0 || t->ne[1] != n1)
        return svg_err(false, "%s: %s is %s, config says [%lld, %lld]", component, name.c_str(), svg_shape_string(t).c_str(),
                       (long long)n0, (long long)n1);
    return true;
}

}  // namespace

bool clip_text_load(const svg_gguf *f, const char *component, svg_backend *be, clip_text *m) {
    svg_component_config c;
    if (!svg_component_config_open(f, component, &c)) return false;
    const bool projection = c.cls == "CLIPTextModelWithProjection";
    if (c.cls != "CLIPTextModel" && !projection)
        return svg_err(false, "%s class '%s' is neither CLIPTextModel nor CLIPTextModelWithProjection", component, c.cls.c_str());
    std::string act;
    double eps;
    if (!c.get_int("vocab_size", &m->vocab) || !c.get_int("hidden_size", &m->hidden) ||
        !c.get_int("intermediate_size", &m->intermediate) || !c.get_int("num_attention_heads", &m->heads) ||
        !c.get_int("num_hidden_layers", &m->layers) || !c.get_int("max_position_embeddings", &m->positions) ||
        !c.get_float("layer_norm_eps", &eps) || !c.get_string("hidden_act", &act) ||
        (projection && !c.get_int("projection_dim", &m->projection_dim)))
        return false;
    // transformers' CLIPTextConfig default
    m->eos_token_id = c.int_or("eos_token_id", 2);
    m->eps = (float)eps;
    if (!clip_activation_parse(act, component, &m->act)) return false;
    if (m->layers < 1 || m->heads < 1 || m->hidden % m->heads || m->positions < 1)
        return svg_err(false, "%s: bad config (%lld layers, hidden %lld, %lld heads, %lld positions)", component,
                       (long long)m->layers, (long long)m->hidden, (long long)m->heads, (long long)m->positions);
    if (!svg_component_weights_load(f, component, be, &m->w)) return false;
    // the shapes every later op depends on
    if (!check_shape(*m, component, "embeddings.token_embedding.weight", m->vocab, m->hidden) ||
        !check_shape(*m, component, "embeddings.position_embedding.weight", m->positions, m->hidden) ||
        (projection && !check_shape(*m, component, "text_projection.weight", m->projection_dim, m->hidden)))
        return false;
    for (int64_t i = 0; i < m->layers; i++) {
        const std::string p = "encoder.layers." + std::to_string(i) + ".";
        if (!check_shape(*m, component, p + "self_attn.q_proj.weight", m->hidden, m->hidden) ||
            !check_shape(*m, component, p + "mlp.fc1.weight", m->intermediate, m->hidden))
            return false;
    }
    return true;
}

std::vector<int64_t> clip_text_pool_positions(const clip_text &m, const int32_t *ids, int64_t B, int64_t L) {
    std::vector<int64_t> pos((size_t)B, 0);
    for (int64_t b = 0; b < B; b++) {
        const int32_t *row = ids + b * L;
        for (int64_t j = 1; j < L; j++) {
            // the first maximum / the first eos, as torch's argmax returns it
            const bool better = m.eos_token_id == 2 ? row[j] > row[pos[(size_t)b]]
                                                    : row[j] == m.eos_token_id && row[pos[(size_t)b]] != m.eos_token_id;
            if (better) pos[(size_t)b] = j;
        }
    }
    return pos;
}

clip_text_output clip_text_forward(svg_context *ctx, const clip_text &m, const int32_t *ids, int64_t B, int64_t L,
                                   svg_tensor *mask, svg_host_inputs *host) {
    if (B < 1 || L < 1 || L > m.positions)
        return svg_err(clip_text_output{}, "clip_text: input_ids [%lld, %lld]: need 1 to %lld tokens per row", (long long)B,
                       (long long)L, (long long)m.positions);
    for (int64_t i = 0; i < B * L; i++)
        if (ids[i] < 0 || ids[i] >= m.vocab)
            return svg_err(clip_text_output{}, "clip_text: token id %d outside the vocabulary of %lld", ids[i], (long long)m.vocab);
    const int64_t ne[2] = {B, L};
    T *t_ids = host->add_i32(ctx, 2, ne, std::vector<int32_t>(ids, ids + B * L), "clip_text.input_ids");

    // embeddings: positions 0 … L−1 are the table's first L rows
    T *pos_table = svg_slice(ctx, m.w.get("embeddings.position_embedding.weight"), 0, 0, L, 1);
    T *h = svg_add(ctx, svg_get_rows(ctx, m.w.get("embeddings.token_embedding.weight"), t_ids), pos_table);
    const clip_layer_config lc{m.hidden, m.heads, m.eps, m.act};
    for (int64_t i = 0; i < m.layers; i++) h = clip_encoder_layer(ctx, lc, m.w, h, i, mask, true);
    h = svg_layer_norm(ctx, h, m.w.get("final_layer_norm.weight"), m.w.get("final_layer_norm.bias"), m.eps);
    if (!h) return {};

    // the pooled rows of h viewed as [B·L, hidden]
    std::vector<int32_t> rows;
    const std::vector<int64_t> pos = clip_text_pool_positions(m, ids, B, L);
    for (int64_t b = 0; b < B; b++) rows.push_back((int32_t)(b * L + pos[(size_t)b]));
    const int64_t nb[1] = {B};
    T *pooled = svg_get_rows(ctx, svg_reshape_2d(ctx, h, B * L, m.hidden), host->add_i32(ctx, 1, nb, rows, "clip_text.pooled_rows"));
    if (m.projection_dim) pooled = svg_linear(ctx, pooled, m.w.get("text_projection.weight"), nullptr);
    if (!pooled) return {};
    return {h, pooled};
}
