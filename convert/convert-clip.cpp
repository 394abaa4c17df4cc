// CLIP vision encoders (transformers CLIPVisionModel and
// CLIPVisionModelWithProjection; Wan 2.1 I2V's image encoder): tensor names,
// the parameter list of a config, and config inference from a single file's
// shapes (ComfyUI's clip_vision_h.safetensors has no config).
//
// transformers nests the tower under "vision_model." in some versions and
// not in others; the model file drops the prefix either way, so the longest
// name ("clip.encoder.layers.NN.self_attn.out_proj.weight", 48 bytes) fits
// GGUF's 63. The two classes differ only in visual_projection.weight.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "convert/convert.h"
#include "src/svg-impl.h"

namespace {

using json = nlohmann::json;

const std::string k_tower = "vision_model.";
const std::string k_projection = "visual_projection.weight";

const char *class_name(bool projection) {
    return projection ? "CLIPVisionModelWithProjection" : "CLIPVisionModel";
}

// "encoder.layers.<digits>." → the layer number, else -1.
int64_t layer_of(const std::string &s) {
    static const std::string p = "encoder.layers.";
    if (s.rfind(p, 0) != 0) return -1;
    size_t i = p.size();
    while (i < s.size() && isdigit((unsigned char)s[i])) i++;
    if (i == p.size() || i >= s.size() || s[i] != '.' || i - p.size() > 6) return -1;
    return std::stoll(s.substr(p.size(), i - p.size()));
}

std::string layer(int64_t i) { return "encoder.layers." + std::to_string(i) + "."; }

bool rename(const std::vector<std::string> &names, std::vector<std::string> *out, std::string *scheme,
            bool projection) {
    out->resize(names.size());
    bool has_patch = false, has_projection = false;
    for (size_t i = 0; i < names.size(); i++) {
        const std::string &n = names[i];
        (*out)[i] = n.rfind(k_tower, 0) == 0 ? n.substr(k_tower.size()) : n;
        has_patch = has_patch || (*out)[i] == "embeddings.patch_embedding.weight";
        has_projection = has_projection || n == k_projection;
    }
    if (!has_patch)
        return svg_err(false, "tensor names are not a transformers %s's (no embeddings.patch_embedding.weight)",
                       class_name(projection));
    if (has_projection != projection)
        return svg_err(false, "%s visual_projection.weight: not a %s", has_projection ? "has a" : "no",
                       class_name(projection));
    *scheme = "transformers";
    return true;
}

bool parameters(const json &c, std::vector<svg_convert_param> *out, bool projection) {
    if (!c.is_object()) return svg_err(false, "config: not a JSON object");
    int64_t hidden, inter, n_layers, patch, image, projection_dim = 0;
    if (!svg_convert_config_int(c, "hidden_size", &hidden) || !svg_convert_config_int(c, "intermediate_size", &inter) ||
        !svg_convert_config_int(c, "num_hidden_layers", &n_layers) || !svg_convert_config_int(c, "patch_size", &patch) ||
        !svg_convert_config_int(c, "image_size", &image) || (projection && !svg_convert_config_int(c, "projection_dim", &projection_dim)))
        return false;
    int64_t channels = 3;
    if (c.contains("num_channels") && !svg_convert_config_int(c, "num_channels", &channels)) return false;
    if (image % patch)
        return svg_err(false, "config: image_size %lld is not a multiple of patch_size %lld", (long long)image,
                       (long long)patch);
    const int64_t grid = image / patch;
    std::vector<svg_convert_param> &p = *out;
    p.clear();
    auto norm = [&](const std::string &name) {
        p.push_back({name + ".weight", {hidden}, SVG_PARAM_NORM});
        p.push_back({name + ".bias", {hidden}, SVG_PARAM_BIAS});
    };
    auto linear = [&](const std::string &name, int64_t n_out, int64_t n_in) {
        p.push_back({name + ".weight", {n_out, n_in}, SVG_PARAM_LINEAR});
        p.push_back({name + ".bias", {n_out}, SVG_PARAM_BIAS});
    };
    p.push_back({"embeddings.class_embedding", {hidden}, SVG_PARAM_TABLE});
    p.push_back({"embeddings.patch_embedding.weight", {hidden, channels, patch, patch}, SVG_PARAM_CONV});
    p.push_back({"embeddings.position_embedding.weight", {grid * grid + 1, hidden}, SVG_PARAM_TABLE});
    norm("pre_layrnorm");  // sic: transformers' spelling
    for (int64_t l = 0; l < n_layers; l++) {
        for (const char *proj : {"q_proj", "k_proj", "v_proj", "out_proj"})
            linear(layer(l) + "self_attn." + proj, hidden, hidden);
        norm(layer(l) + "layer_norm1");
        linear(layer(l) + "mlp.fc1", inter, hidden);
        linear(layer(l) + "mlp.fc2", hidden, inter);
        norm(layer(l) + "layer_norm2");
    }
    norm("post_layernorm");
    if (projection) p.push_back({k_projection, {projection_dim, hidden}, SVG_PARAM_LINEAR});
    return true;
}


bool infer_config(const svg_shape_map &shapes, json *config, bool projection) {
    const std::vector<int64_t> *patch, *pos, *fc1, *proj = nullptr;
    if (!svg_convert_need(shapes, "embeddings.patch_embedding.weight", 4, &patch) ||
        !svg_convert_need(shapes, "embeddings.position_embedding.weight", 2, &pos) ||
        !svg_convert_need(shapes, layer(0) + "mlp.fc1.weight", 2, &fc1) || (projection && !svg_convert_need(shapes, k_projection, 2, &proj)))
        return false;
    const int64_t hidden = (*patch)[0], grid = (int64_t)std::llround(std::sqrt((double)((*pos)[0] - 1)));
    if (grid * grid + 1 != (*pos)[0])
        return svg_err(false, "cannot infer the config: %lld positions are not a square grid plus the class token",
                       (long long)(*pos)[0]);
    // The head count and activation are not in the shapes: those of the
    // released towers of each width (OpenAI ViT-B/L use quick_gelu, open-clip
    // ViT-H/14 (Wan's) and bigG/14 exact GELU).
    struct known {
        int64_t hidden, heads;
        const char *act;
    };
    static const known k_known[] = {{768, 12, "quick_gelu"}, {1024, 16, "quick_gelu"}, {1280, 16, "gelu"}, {1664, 16, "gelu"}};
    const known *k = nullptr;
    for (const known &e : k_known)
        if (e.hidden == hidden) k = &e;
    if (!k)
        return svg_err(false, "cannot infer the config: no released CLIP vision tower has width %lld (give --config)",
                       (long long)hidden);
    int64_t n_layers = 0;
    for (const auto &kv : shapes) n_layers = std::max(n_layers, layer_of(kv.first) + 1);

    json c = json::object();
    c["architectures"] = {class_name(projection)};
    c["model_type"] = "clip_vision_model";
    c["hidden_size"] = hidden;
    c["intermediate_size"] = (*fc1)[0];
    c["num_hidden_layers"] = n_layers;
    c["num_attention_heads"] = k->heads;
    c["num_channels"] = (*patch)[1];
    c["patch_size"] = (*patch)[2];
    c["image_size"] = grid * (*patch)[2];
    c["hidden_act"] = k->act;
    c["layer_norm_eps"] = 1e-5;
    if (projection) c["projection_dim"] = (*proj)[0];
    *config = std::move(c);
    return true;
}

using plain_fns = svg_convert_variant<rename, infer_config, parameters, false>;
using projection_fns = svg_convert_variant<rename, infer_config, parameters, true>;

}  // namespace

const svg_convert_arch svg_convert_arch_clip_vision = {
    "CLIPVisionModel", "clip", "image_encoder", plain_fns::rename, plain_fns::infer_config, plain_fns::parameters,
};
const svg_convert_arch svg_convert_arch_clip_vision_projection = {
    "CLIPVisionModelWithProjection", "clip", "image_encoder", projection_fns::rename, projection_fns::infer_config, projection_fns::parameters,
};
