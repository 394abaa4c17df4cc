// CLIP vision encoder (transformers CLIPVisionTransformer) built from svg.h
// ops, read like the reference forward:
//   patch conv (no bias) → [class token | patches] + learned positions →
//   pre_layrnorm → layers of [LayerNorm → self-attention (biased q/k/v/out,
//   scale 1/√head_dim), residual; LayerNorm → fc1 → activation → fc2,
//   residual], stopping after the penultimate layer.
// The encoder layer is shared with the text tower (models/clip-text.cpp).
// Tensor names are transformers' without the "vision_model." prefix
// (convert/convert-clip.cpp strips it).
#include "models/clip-vision.h"

#include <cmath>
#include <string>

#include "src/svg-impl.h"

namespace {

using T = svg_tensor;

std::string layer_prefix(int64_t i) { return "encoder.layers." + std::to_string(i) + "."; }

struct layer_builder {
    svg_context *ctx;
    const clip_layer_config &c;
    const svg_component_weights &w;

    T *linear(T *x, const std::string &name) const {
        return svg_linear(ctx, x, w.get(name + ".weight"), w.get(name + ".bias"));
    }
    T *layer_norm(T *x, const std::string &name) const {
        return svg_layer_norm(ctx, x, w.get(name + ".weight"), w.get(name + ".bias"), c.eps);
    }

    T *activation(T *x) const {
        switch (c.act) {
            case CLIP_ACT_GELU: return svg_gelu(ctx, x);
            case CLIP_ACT_GELU_TANH: return svg_gelu_tanh(ctx, x);
            case CLIP_ACT_QUICK_GELU: break;
        }
        return svg_mul(ctx, x, svg_sigmoid(ctx, svg_scale(ctx, x, 1.702f, 0.0f)));
    }

    T *self_attention(T *x, T *key_mask, bool causal, const std::string &p) const {
        const int perm[4] = {0, 2, 1, 3};
        const int64_t head_dim = c.hidden / c.heads;
        auto heads = [&](T *y) {
            if (!y) return (T *)nullptr;
            const int64_t ne[4] = {y->ne[0], y->ne[1], c.heads, head_dim};
            return svg_permute(ctx, svg_reshape(ctx, y, 4, ne), perm);
        };
        T *o = svg_attention(ctx, heads(linear(x, p + "q_proj")), heads(linear(x, p + "k_proj")),
                             heads(linear(x, p + "v_proj")), nullptr, key_mask, 1.0f / std::sqrt((float)head_dim),
                             causal);
        if (!o) return nullptr;
        return linear(svg_reshape_3d(ctx, o, o->ne[0], o->ne[1], c.hidden), p + "out_proj");
    }
};

// A weight of the expected shape, else an error naming it.
bool check_shape(const clip_vision &m, const std::string &name, std::initializer_list<int64_t> shape) {
    T *t = m.w.get(name);
    if (!t) return false;
    bool ok = t->n_dims == (int)shape.size();
    int d = 0;
    for (int64_t n : shape) ok = ok && t->ne[d++] == n;
    if (!ok) return svg_err(false, "image_encoder: %s is %s, not what the config says", name.c_str(), svg_shape_string(t).c_str());
    return true;
}

}  // namespace

bool clip_activation_parse(const std::string &act, const char *component, clip_activation *out) {
    if (act == "quick_gelu") *out = CLIP_ACT_QUICK_GELU;
    else if (act == "gelu") *out = CLIP_ACT_GELU;
    else if (act == "gelu_new" || act == "gelu_pytorch_tanh") *out = CLIP_ACT_GELU_TANH;
    else return svg_err(false, "%s: hidden_act '%s' not supported", component, act.c_str());
    return true;
}

svg_tensor *clip_encoder_layer(svg_context *ctx, const clip_layer_config &c, const svg_component_weights &w, svg_tensor *h,
                               int64_t i, svg_tensor *key_mask, bool causal) {
    const layer_builder b{ctx, c, w};
    const std::string p = layer_prefix(i);
    h = svg_add(ctx, h, b.self_attention(b.layer_norm(h, p + "layer_norm1"), key_mask, causal, p + "self_attn."));
    T *ff = b.linear(b.activation(b.linear(b.layer_norm(h, p + "layer_norm2"), p + "mlp.fc1")), p + "mlp.fc2");
    return svg_add(ctx, h, ff);
}

bool clip_vision_load(const svg_gguf *f, svg_backend *be, clip_vision *m) {
    svg_component_config c;
    if (!svg_component_config_open(f, "image_encoder", &c)) return false;
    if (c.cls != "CLIPVisionModel" && c.cls != "CLIPVisionModelWithProjection")
        return svg_err(false, "image_encoder class '%s' is neither CLIPVisionModel nor CLIPVisionModelWithProjection",
                       c.cls.c_str());
    std::string act;
    double eps;
    if (!c.get_int("hidden_size", &m->hidden) || !c.get_int("intermediate_size", &m->intermediate) ||
        !c.get_int("num_attention_heads", &m->heads) || !c.get_int("num_hidden_layers", &m->layers) ||
        !c.get_int("patch_size", &m->patch) || !c.get_int("image_size", &m->image_size) ||
        !c.get_float("layer_norm_eps", &eps) || !c.get_string("hidden_act", &act))
        return false;
    m->channels = c.int_or("num_channels", 3);
    m->eps = (float)eps;
    if (!clip_activation_parse(act, "image_encoder", &m->act)) return false;
    if (m->layers < 2 || m->heads < 1 || m->hidden % m->heads || m->patch < 1 || m->image_size % m->patch)
        return svg_err(false, "image_encoder: bad config (%lld layers, hidden %lld, %lld heads, patch %lld, image %lld)",
                       (long long)m->layers, (long long)m->hidden, (long long)m->heads, (long long)m->patch,
                       (long long)m->image_size);
    if (!svg_component_weights_load(f, "image_encoder", be, &m->w)) return false;
    const int64_t grid = m->image_size / m->patch;
    if (!check_shape(*m, "embeddings.patch_embedding.weight", {m->hidden, m->channels, m->patch, m->patch}) ||
        !check_shape(*m, "embeddings.class_embedding", {m->hidden}) ||
        !check_shape(*m, "embeddings.position_embedding.weight", {grid * grid + 1, m->hidden}))
        return false;
    for (int64_t i = 0; i + 1 < m->layers; i++) {
        const std::string p = layer_prefix(i);
        if (!check_shape(*m, p + "self_attn.q_proj.weight", {m->hidden, m->hidden}) ||
            !check_shape(*m, p + "mlp.fc1.weight", {m->intermediate, m->hidden}))
            return false;
    }
    return true;
}

svg_tensor *clip_vision_forward(svg_context *ctx, const clip_vision &m, svg_tensor *x, svg_host_inputs *) {
    if (!x) return svg_err<T *>(nullptr, "clip_vision: missing pixel_values");
    if (x->n_dims != 4 || x->ne[1] != m.channels || x->ne[2] != m.image_size || x->ne[3] != m.image_size)
        return svg_err<T *>(nullptr, "clip_vision: pixel_values %s, expected [B, %lld, %lld, %lld]",
                            svg_shape_string(x).c_str(), (long long)m.channels, (long long)m.image_size,
                            (long long)m.image_size);
    const int64_t B = x->ne[0], n_patches = (m.image_size / m.patch) * (m.image_size / m.patch);
    const clip_layer_config lc{m.hidden, m.heads, m.eps, m.act};
    const layer_builder b{ctx, lc, m.w};

    const int stride[2] = {(int)m.patch, (int)m.patch}, pad[4] = {0, 0, 0, 0};
    T *patches = svg_conv2d(ctx, x, m.w.get("embeddings.patch_embedding.weight"), nullptr, stride, pad);
    patches = svg_cont(ctx, svg_transpose(ctx, svg_reshape_3d(ctx, patches, B, m.hidden, n_patches), 1, 2));
    const int64_t reps[3] = {B, 1, 1};
    T *cls = svg_repeat(ctx, svg_reshape_3d(ctx, m.w.get("embeddings.class_embedding"), 1, 1, m.hidden), reps);
    T *h = svg_add(ctx, svg_concat(ctx, cls, patches, 1), m.w.get("embeddings.position_embedding.weight"));
    h = b.layer_norm(h, "pre_layrnorm");
    for (int64_t i = 0; i + 1 < m.layers; i++) h = clip_encoder_layer(ctx, lc, m.w, h, i, nullptr, false);
    return h;
}
