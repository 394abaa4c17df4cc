// Reading the model-file contract (models/model-file.h): component configs
// and weights.
#include "models/model-file.h"

#include <cstring>

#include "src/svg-impl.h"

namespace {

std::string key_of(const svg_component_config &c, const char *key) {
    return "svg." + c.component + "." + key;
}

}  // namespace

std::string svg_component_tensor_prefix(const std::string &component) {
    static const std::pair<const char *, const char *> short_names[] = {
        {"transformer", "dit."}, {"transformer_2", "dit2."}, {"text_encoder", "te."},
        {"vae", "vae."}, {"image_encoder", "clip."},
    };
    for (const auto &p : short_names)
        if (component == p.first) return p.second;
    return component + ".";
}

bool svg_component_config_open(const svg_gguf *f, const char *component, svg_component_config *out) {
    out->component = component;
    out->file = f;
    const char *cls = svg_gguf_get_string(f, ("svg." + std::string(component) + ".class").c_str());
    if (!cls) return svg_err(false, "model file has no %s component (svg.%s.class missing)", component, component);
    out->cls = cls;
    return true;
}

bool svg_component_config::has(const char *key) const {
    return svg_gguf_find_key(file, key_of(*this, key).c_str()) >= 0;
}

bool svg_component_config::get_int(const char *key, int64_t *out) const {
    if (!svg_gguf_get_int(file, key_of(*this, key).c_str(), out))
        return svg_err(false, "model file: %s missing or not an integer", key_of(*this, key).c_str());
    return true;
}

bool svg_component_config::get_float(const char *key, double *out) const {
    if (!svg_gguf_get_float(file, key_of(*this, key).c_str(), out))
        return svg_err(false, "model file: %s missing or not a number", key_of(*this, key).c_str());
    return true;
}

bool svg_component_config::get_bool(const char *key, bool *out) const {
    const int64_t i = svg_gguf_find_key(file, key_of(*this, key).c_str());
    if (i < 0 || svg_gguf_kv_type(file, i) != SVG_GGUF_BOOL)
        return svg_err(false, "model file: %s missing or not a boolean", key_of(*this, key).c_str());
    *out = svg_gguf_get_bool(file, i);
    return true;
}

bool svg_component_config::get_string(const char *key, std::string *out) const {
    const char *s = svg_gguf_get_string(file, key_of(*this, key).c_str());
    if (!s) return svg_err(false, "model file: %s missing or not a string", key_of(*this, key).c_str());
    *out = s;
    return true;
}

bool svg_component_config::get_ints(const char *key, std::vector<int64_t> *out) const {
    const std::string k = key_of(*this, key);
    const int64_t i = svg_gguf_find_key(file, k.c_str());
    if (i < 0 || svg_gguf_kv_type(file, i) != SVG_GGUF_ARRAY) return svg_err(false, "model file: %s missing or not an array", k.c_str());
    const enum svg_gguf_type t = svg_gguf_arr_type(file, i);
    const int64_t n = svg_gguf_arr_n(file, i);
    const void *d = svg_gguf_arr_data(file, i);
    out->clear();
    for (int64_t j = 0; j < n; j++) {
        switch (t) {
            case SVG_GGUF_INT64: out->push_back(((const int64_t *)d)[j]); break;
            case SVG_GGUF_INT32: out->push_back(((const int32_t *)d)[j]); break;
            case SVG_GGUF_UINT32: out->push_back(((const uint32_t *)d)[j]); break;
            default: return svg_err(false, "model file: %s is not an integer array", k.c_str());
        }
    }
    return true;
}

int64_t svg_component_config::int_or(const char *key, int64_t def) const {
    int64_t v;
    return svg_gguf_get_int(file, key_of(*this, key).c_str(), &v) ? v : def;
}
double svg_component_config::float_or(const char *key, double def) const {
    double v;
    return svg_gguf_get_float(file, key_of(*this, key).c_str(), &v) ? v : def;
}
bool svg_component_config::bool_or(const char *key, bool def) const {
    bool v;
    if (!has(key)) return def;
    return get_bool(key, &v) ? v : def;
}

svg_component_weights::~svg_component_weights() {
    svg_buffer_free(buf);
    if (ctx) svg_context_free(ctx);
}

svg_tensor *svg_component_weights::get(const std::string &name) const {
    auto it = tensors.find(name);
    if (it == tensors.end()) return svg_err<svg_tensor *>(nullptr, "model file: tensor '%s' missing", name.c_str());
    return it->second;
}

svg_tensor *svg_component_weights::get_opt(const std::string &name) const {
    auto it = tensors.find(name);
    return it == tensors.end() ? nullptr : it->second;
}

bool svg_component_weights::has_shape(const std::string &name, const std::vector<int64_t> &want) const {
    const svg_tensor *t = get(name);
    if (!t) return false;
    if (std::vector<int64_t>(t->ne, t->ne + t->n_dims) == want) return true;
    std::string w = "[";
    for (size_t i = 0; i < want.size(); i++) w += (i ? ", " : "") + std::to_string(want[i]);
    return svg_err(false, "%s is %s, the config says %s]", name.c_str(), svg_shape_string(t).c_str(), w.c_str());
}

namespace {

// The prefix of a component's tensors in this file: its svg.<component>.tensor_prefix, else the default.
std::string file_prefix(const svg_gguf *f, const char *component) {
    const char *pfx = svg_gguf_get_string(f, ("svg." + std::string(component) + ".tensor_prefix").c_str());
    return pfx ? pfx : svg_component_tensor_prefix(component);
}

}  // namespace

size_t svg_component_bytes(const svg_gguf *f, const char *component) {
    const std::string prefix = file_prefix(f, component);
    size_t n = 0;
    for (int64_t i = 0; i < svg_gguf_n_tensors(f); i++)
        if (strncmp(svg_gguf_tensor_name(f, i), prefix.c_str(), prefix.size()) == 0) n += svg_gguf_tensor_nbytes(f, i);
    return n;
}

bool svg_component_weights_load(const svg_gguf *f, const char *component, svg_backend *be, svg_component_weights *out) {
    const std::string prefix = file_prefix(f, component);
    out->ctx = svg_context_new(true);
    std::vector<int64_t> idx;
    for (int64_t i = 0; i < svg_gguf_n_tensors(f); i++) {
        const char *name = svg_gguf_tensor_name(f, i);
        if (strncmp(name, prefix.c_str(), prefix.size()) != 0) continue;
        svg_tensor *t = svg_gguf_new_tensor(f, i, out->ctx);
        if (!t) return false;
        out->tensors[name + prefix.size()] = t;
        idx.push_back(i);
    }
    if (idx.empty()) return svg_err(false, "model file has no tensors for component '%s' (prefix '%s')", component, prefix.c_str());
    out->buf = svg_backend_alloc_ctx_tensors(out->ctx, be);
    if (!out->buf) return false;
    for (int64_t i : idx) {
        svg_tensor *t = out->tensors[svg_gguf_tensor_name(f, i) + prefix.size()];
        if (!svg_tensor_set(t, svg_gguf_tensor_data(f, i), 0, svg_gguf_tensor_nbytes(f, i))) return false;
    }
    return true;
}

svg_tensor *svg_host_inputs::add(svg_context *ctx, int n_dims, const int64_t *ne, std::vector<float> v, const char *name) {
    svg_tensor *t = svg_set_name(svg_new_tensor(ctx, SVG_TYPE_F32, n_dims, ne), name);
    if (!t) return nullptr;
    svg_set_input(t);
    values.emplace_back(t, std::move(v));
    return t;
}

svg_tensor *svg_host_inputs::add_i32(svg_context *ctx, int n_dims, const int64_t *ne, std::vector<int32_t> v, const char *name) {
    svg_tensor *t = svg_set_name(svg_new_tensor(ctx, SVG_TYPE_I32, n_dims, ne), name);
    if (!t) return nullptr;
    if ((int64_t)v.size() != svg_nelements(t)) return svg_err<svg_tensor *>(nullptr, "input '%s': %zu values for %lld elements", name, v.size(), (long long)svg_nelements(t));
    svg_set_input(t);
    ids.emplace_back(t, std::move(v));
    return t;
}

bool svg_host_inputs::upload() const {
    for (const auto &p : values)
        if (!svg_tensor_set_f32(p.first, p.second.data(), (int64_t)p.second.size())) return false;
    for (const auto &p : ids)
        if (!svg_tensor_set(p.first, p.second.data(), 0, p.second.size() * sizeof(int32_t))) return false;
    return true;
}

bool svg_compute_to_host(svg_backend *be, svg_gallocr *ga, svg_context *ctx, svg_tensor *out, const svg_host_inputs &host,
                         std::vector<float> *result) {
    if (!out) return false;
    if (out->type != SVG_TYPE_F32) out = svg_cast(ctx, out, SVG_TYPE_F32);
    else if (!svg_is_contiguous(out)) out = svg_cont(ctx, out);
    if (!out) return false;
    svg_set_output(out);
    svg_graph *g = svg_graph_new(ctx);
    bool ok = svg_graph_build(g, out) && svg_gallocr_alloc_graph(ga, g) && host.upload() && svg_backend_graph_compute(be, g);
    if (ok) {
        result->resize((size_t)svg_nelements(out));
        ok = svg_tensor_get_f32(out, result->data(), (int64_t)result->size());
    }
    svg_graph_free(g);
    return ok;
}
