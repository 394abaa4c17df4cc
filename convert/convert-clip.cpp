// CLIP vision encoders (transformers CLIPVisionModel and
// CLIPVisionModelWithProjection; Wan 2.1 I2V's image encoder) and text
// encoders (CLIPTextModel and CLIPTextModelWithProjection; HunyuanVideo's
// second text encoder): tensor names, the parameter list of a config, and
// config inference from a single file's shapes (ComfyUI's
// clip_vision_h.safetensors and clip_l.safetensors have no config).
//
// transformers nests a tower under "vision_model." / "text_model." in some
// versions and not in others (ComfyUI's clip_l under
// "transformer.text_model."); the model file drops the prefix either way, so
// the longest name ("text_encoder_2.encoder.layers.NN.self_attn.out_proj.weight",
// 58 bytes) fits GGUF's 63. The classes with a projection differ only in
// visual_projection.weight / text_projection.weight.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstring>
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

// ---- text towers

const std::string k_text_projection = "text_projection.weight";

const char *text_class_name(bool projection) {
    return projection ? "CLIPTextModelWithProjection" : "CLIPTextModel";
}

bool text_rename(const std::vector<std::string> &names, std::vector<std::string> *out, std::string *scheme,
                 bool projection) {
    out->resize(names.size());
    bool has_tokens = false, has_projection = false;
    for (size_t i = 0; i < names.size(); i++) {
        std::string n = names[i];
        for (const char *p : {"transformer.text_model.", "text_model."})
            if (n.rfind(p, 0) == 0) {
                n.erase(0, strlen(p));
                break;
            }
        has_tokens = has_tokens || n == "embeddings.token_embedding.weight";
        has_projection = has_projection || n == k_text_projection;
        // not weights of the tower: CLIP's contrastive temperature, the
        // position-id buffer older transformers saved; and the projection of
        // a plain text model (ComfyUI's clip_l has one; HunyuanVideo pools
        // without it)
        if (n == "logit_scale" || n == "embeddings.position_ids" || (!projection && n == k_text_projection)) n.clear();
        (*out)[i] = n;
    }
    if (!has_tokens)
        return svg_err(false, "tensor names are not a transformers %s's (no embeddings.token_embedding.weight)",
                       text_class_name(projection));
    if (projection && !has_projection) return svg_err(false, "no text_projection.weight: not a %s", text_class_name(true));
    *scheme = "transformers";
    return true;
}

bool text_parameters(const json &c, std::vector<svg_convert_param> *out, bool projection) {
    if (!c.is_object()) return svg_err(false, "config: not a JSON object");
    int64_t vocab, hidden, inter, n_layers, positions, projection_dim = 0;
    if (!svg_convert_config_int(c, "vocab_size", &vocab) || !svg_convert_config_int(c, "hidden_size", &hidden) ||
        !svg_convert_config_int(c, "intermediate_size", &inter) || !svg_convert_config_int(c, "num_hidden_layers", &n_layers) ||
        !svg_convert_config_int(c, "max_position_embeddings", &positions) ||
        (projection && !svg_convert_config_int(c, "projection_dim", &projection_dim)))
        return false;
    svg_param_list p{out};
    out->clear();
    // the token embedding takes the linear weights' type (svg_get_rows reads
    // every weight type): over a third of CLIP-L's bytes
    out->push_back({"embeddings.token_embedding.weight", {vocab, hidden}, SVG_PARAM_LINEAR});
    out->push_back({"embeddings.position_embedding.weight", {positions, hidden}, SVG_PARAM_TABLE});
    for (int64_t l = 0; l < n_layers; l++) {
        for (const char *proj : {"q_proj", "k_proj", "v_proj", "out_proj"}) p.linear(layer(l) + "self_attn." + proj, hidden, hidden);
        p.norm(layer(l) + "layer_norm1", hidden);
        p.linear(layer(l) + "mlp.fc1", inter, hidden);
        p.linear(layer(l) + "mlp.fc2", hidden, inter);
        p.norm(layer(l) + "layer_norm2", hidden);
    }
    p.norm("final_layer_norm", hidden);
    if (projection) p.linear("text_projection", projection_dim, hidden, false);
    return true;
}

bool text_infer_config(const svg_shape_map &shapes, json *config, bool projection) {
    const std::vector<int64_t> *tokens, *pos, *fc1, *proj = nullptr;
    if (!svg_convert_need(shapes, "embeddings.token_embedding.weight", 2, &tokens) ||
        !svg_convert_need(shapes, "embeddings.position_embedding.weight", 2, &pos) ||
        !svg_convert_need(shapes, layer(0) + "mlp.fc1.weight", 2, &fc1) ||
        (projection && !svg_convert_need(shapes, k_text_projection, 2, &proj)))
        return false;
    // The head count is not in the shapes: every released CLIP text tower
    // (OpenAI's, open-clip's) has 64-dim heads.
    const int64_t hidden = (*tokens)[1];
    if (hidden % 64)
        return svg_err(false, "cannot infer the config: width %lld is not a multiple of 64-dim heads (give --config)",
                       (long long)hidden);
    int64_t n_layers = 0;
    for (const auto &kv : shapes) n_layers = std::max(n_layers, layer_of(kv.first) + 1);

    json c = json::object();
    c["architectures"] = {text_class_name(projection)};
    c["model_type"] = "clip_text_model";
    c["vocab_size"] = (*tokens)[0];
    c["hidden_size"] = hidden;
    c["intermediate_size"] = (*fc1)[0];
    c["num_hidden_layers"] = n_layers;
    c["num_attention_heads"] = hidden / 64;
    c["max_position_embeddings"] = (*pos)[0];
    // OpenAI's CLIP-L (HunyuanVideo's, ComfyUI's clip_l): quick_gelu, and
    // eos_token_id 2, so pooling takes the largest token id (the real eos)
    c["hidden_act"] = "quick_gelu";
    c["layer_norm_eps"] = 1e-5;
    c["eos_token_id"] = 2;
    if (projection) c["projection_dim"] = (*proj)[0];
    *config = std::move(c);
    return true;
}

using text_plain_fns = svg_convert_variant<text_rename, text_infer_config, text_parameters, false>;
using text_projection_fns = svg_convert_variant<text_rename, text_infer_config, text_parameters, true>;

}  // namespace

const svg_convert_arch svg_convert_arch_clip_vision = {
    "CLIPVisionModel", "clip", "image_encoder", plain_fns::rename, plain_fns::infer_config, plain_fns::parameters,
};
const svg_convert_arch svg_convert_arch_clip_vision_projection = {
    "CLIPVisionModelWithProjection", "clip", "image_encoder", projection_fns::rename, projection_fns::infer_config, projection_fns::parameters,
};
const svg_convert_arch svg_convert_arch_clip_text = {
    "CLIPTextModel", "clip", "text_encoder", text_plain_fns::rename, text_plain_fns::infer_config, text_plain_fns::parameters,
};
const svg_convert_arch svg_convert_arch_clip_text_projection = {
    "CLIPTextModelWithProjection", "clip", "text_encoder", text_projection_fns::rename, text_projection_fns::infer_config,
    text_projection_fns::parameters,
};
