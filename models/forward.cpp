// Component dispatch for svg_forward_component (models/forward.h).
#include "models/forward.h"

#include <cstring>

#include "models/umt5.h"
#include "models/wan-vae.h"
#include "models/wan.h"
#include "src/svg-impl.h"

namespace {

// A named tensor of the inputs file as f32 values and its shape.
bool read_f32(const svg_safetensors *st, const char *name, std::vector<int64_t> *shape, std::vector<float> *values) {
    const int64_t i = svg_safetensors_find(st, name);
    if (i < 0) return svg_err(false, "input '%s' not found in the inputs file", name);
    int64_t ne[SVG_MAX_DIMS];
    svg_safetensors_shape(st, i, ne);
    shape->assign(ne, ne + svg_safetensors_n_dims(st, i));
    values->resize((size_t)svg_safetensors_nelements(st, i));
    return svg_safetensors_read_f32(st, i, values->data(), (int64_t)values->size());
}

// The same as a graph input; NULL (no error) when absent and optional.
svg_tensor *read_input(svg_context *ctx, const svg_safetensors *st, const char *name, bool optional, svg_host_inputs *host) {
    if (optional && svg_safetensors_find(st, name) < 0) return nullptr;
    std::vector<int64_t> shape;
    std::vector<float> v;
    if (!read_f32(st, name, &shape, &v)) return nullptr;
    return host->add(ctx, (int)shape.size(), shape.data(), std::move(v), name);
}

// Compute y (NULL: an earlier step failed) into out, then free the context.
bool compute(svg_backend *be, svg_context *ctx, svg_tensor *y, const svg_host_inputs &host, svg_forward_result *out) {
    svg_gallocr *ga = svg_gallocr_new(be);
    const bool ok = y && svg_compute_to_host(be, ga, ctx, y, host, &out->values);
    if (ok) out->shape.assign(y->ne, y->ne + y->n_dims);
    svg_gallocr_free(ga);
    svg_context_free(ctx);
    return ok;
}

// text_encoder: input_ids [B, L] (+ attention_mask) → last_hidden_state
bool forward_text_encoder(const svg_gguf *f, svg_backend *be, const svg_safetensors *inputs, svg_forward_result *out) {
    umt5_encoder m;
    if (!umt5_load(f, be, &m)) return false;
    const int64_t i = svg_safetensors_find(inputs, "input_ids");
    if (i < 0) return svg_err(false, "input 'input_ids' not found in the inputs file");
    if (svg_safetensors_n_dims(inputs, i) != 2) return svg_err(false, "input_ids must be [B, L]");
    int64_t ne[2];
    svg_safetensors_shape(inputs, i, ne);
    std::vector<int64_t> ids64((size_t)svg_safetensors_nelements(inputs, i));
    if (!svg_safetensors_read_i64(inputs, i, ids64.data(), (int64_t)ids64.size())) return false;
    std::vector<int32_t> ids;
    for (int64_t v : ids64) {
        if (v < 0 || v >= m.vocab) return svg_err(false, "input_ids: token id %lld outside the vocabulary of %lld", (long long)v, (long long)m.vocab);
        ids.push_back((int32_t)v);
    }
    svg_context *ctx = svg_context_new(true);
    svg_host_inputs host;
    svg_tensor *idt = host.add_i32(ctx, 2, ne, ids, "input_ids");
    svg_tensor *mask = nullptr;
    if (svg_safetensors_find(inputs, "attention_mask") >= 0) mask = read_input(ctx, inputs, "attention_mask", false, &host);
    return compute(be, ctx, idt ? umt5_forward(ctx, m, idt, mask, &host) : nullptr, host, out);
}

// vae: input z → decode (out = video), or video → encode (out = mean)
bool forward_vae(const svg_gguf *f, svg_backend *be, const svg_safetensors *inputs, svg_forward_result *out) {
    wan_vae m;
    if (!wan_vae_load(f, be, &m)) return false;
    const bool decode = svg_safetensors_find(inputs, "z") >= 0;
    if (!decode && svg_safetensors_find(inputs, "video") < 0) return svg_err(false, "vae: inputs need 'z' (decode) or 'video' (encode)");
    wan_vae_tensor x, y, logvar;
    if (!read_f32(inputs, decode ? "z" : "video", &x.shape, &x.data)) return false;
    if (!(decode ? wan_vae_decode(m, be, x, &y) : wan_vae_encode(m, be, x, &y, &logvar))) return false;
    out->shape = y.shape;
    out->values = std::move(y.data);
    return true;
}

}  // namespace

bool svg_forward_component(const svg_gguf *f, const std::string &component, svg_backend *be, enum svg_type act,
                           const svg_safetensors *inputs, svg_forward_result *out) {
    if (component == "text_encoder") return forward_text_encoder(f, be, inputs, out);
    if (component == "vae") return forward_vae(f, be, inputs, out);
    const char *arch = svg_gguf_get_string(f, "general.architecture");
    if (!arch || strcmp(arch, "wan") != 0 || component != "transformer")
        return svg_err(false, "no forward for component '%s' of architecture '%s'", component.c_str(), arch ? arch : "?");
    wan_transformer m;
    if (!wan_transformer_load(f, be, &m)) return false;

    svg_context *ctx = svg_context_new(true);
    svg_host_inputs host;
    svg_tensor *x = read_input(ctx, inputs, "hidden_states", false, &host);
    svg_tensor *t = x ? read_input(ctx, inputs, "timestep", false, &host) : nullptr;
    svg_tensor *text = t ? read_input(ctx, inputs, "encoder_hidden_states", false, &host) : nullptr;
    svg_tensor *image = text ? read_input(ctx, inputs, "encoder_hidden_states_image", true, &host) : nullptr;
    return compute(be, ctx, text ? wan_transformer_forward(ctx, m, x, t, text, image, act, &host) : nullptr, host, out);
}
