// Llama text tower (transformers LlamaModel; HunyuanVideo's text encoder,
// llava-llama-3-8b's language model): tensor names, the parameter list of a
// config, and config inference from a single file's shapes.
//
// The model file holds LlamaModel's names. Whole-model files nest them:
// LlamaForCausalLM under "model.", LLaVA (and ComfyUI's
// llava_llama3_fp16.safetensors) under "language_model.model."; their
// language-model head, vision tower and projector are dropped (a note says
// so): the text tower is all HunyuanVideo runs.
#include <algorithm>
#include <cctype>
#include <cstring>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "convert/convert.h"
#include "src/svg-impl.h"

namespace {

using json = nlohmann::json;

// "layers.<digits>." → the layer number, else -1.
int64_t layer_of(const std::string &s) {
    static const std::string p = "layers.";
    if (s.rfind(p, 0) != 0) return -1;
    size_t i = p.size();
    while (i < s.size() && isdigit((unsigned char)s[i])) i++;
    if (i == p.size() || i >= s.size() || s[i] != '.' || i - p.size() > 6) return -1;
    return std::stoll(s.substr(p.size(), i - p.size()));
}

std::string layer(int64_t i) { return "layers." + std::to_string(i) + "."; }

bool starts_with(const std::string &s, const std::string &p) { return s.rfind(p, 0) == 0; }

bool rename(const std::vector<std::string> &names, std::vector<std::string> *out, std::string *scheme) {
    out->resize(names.size());
    bool has_embed = false, has_q = false;
    std::string nesting;
    for (size_t i = 0; i < names.size(); i++) {
        std::string n = names[i];
        for (const char *p : {"language_model.model.", "model."})
            if (starts_with(n, p)) {
                nesting = p;
                n.erase(0, strlen(p));
                break;
            }
        // the rest of a causal LM / LLaVA checkpoint: not the text tower
        for (const char *p : {"lm_head.", "language_model.lm_head.", "vision_tower.", "multi_modal_projector.", "image_newline"})
            if (starts_with(n, p)) n.clear();
        has_embed = has_embed || n == "embed_tokens.weight";
        has_q = has_q || n == layer(0) + "self_attn.q_proj.weight";
        (*out)[i] = n;
    }
    if (!has_embed || !has_q)
        return svg_err(false, "tensor names are not a transformers LlamaModel's (no embed_tokens.weight and %sself_attn.q_proj.weight)",
                       layer(0).c_str());
    *scheme = nesting.empty() ? "transformers" : "transformers, under " + nesting;
    return true;
}

bool parameters(const json &c, std::vector<svg_convert_param> *out) {
    if (!c.is_object()) return svg_err(false, "config: not a JSON object");
    int64_t vocab, hidden, inter, n_layers, heads, kv_heads, head_dim;
    bool attention_bias, mlp_bias;
    if (!svg_convert_config_int(c, "vocab_size", &vocab) || !svg_convert_config_int(c, "hidden_size", &hidden) ||
        !svg_convert_config_int(c, "intermediate_size", &inter) || !svg_convert_config_int(c, "num_hidden_layers", &n_layers) ||
        !svg_convert_config_int(c, "num_attention_heads", &heads) ||
        !svg_convert_config_opt_int(c, "num_key_value_heads", heads, &kv_heads) ||
        !svg_convert_config_opt_int(c, "head_dim", hidden / heads, &head_dim) ||
        !svg_convert_config_opt_bool(c, "attention_bias", false, &attention_bias) ||
        !svg_convert_config_opt_bool(c, "mlp_bias", false, &mlp_bias))
        return false;
    if (attention_bias || mlp_bias) return svg_err(false, "config: attention_bias / mlp_bias are not supported");
    if (head_dim < 1) return svg_err(false, "config: hidden_size %lld has no head_dim for %lld heads", (long long)hidden, (long long)heads);
    svg_param_list p{out};
    out->clear();
    // the embedding takes the linear weights' type: 1 GB of llava-llama-3-8b
    // in f16, and svg_get_rows reads every weight type
    out->push_back({"embed_tokens.weight", {vocab, hidden}, SVG_PARAM_LINEAR});
    for (int64_t l = 0; l < n_layers; l++) {
        const std::string a = layer(l) + "self_attn.", f = layer(l) + "mlp.";
        p.norm(layer(l) + "input_layernorm", hidden, false);
        p.linear(a + "q_proj", heads * head_dim, hidden, false);
        p.linear(a + "k_proj", kv_heads * head_dim, hidden, false);
        p.linear(a + "v_proj", kv_heads * head_dim, hidden, false);
        p.linear(a + "o_proj", hidden, heads * head_dim, false);
        p.norm(layer(l) + "post_attention_layernorm", hidden, false);
        p.linear(f + "gate_proj", inter, hidden, false);
        p.linear(f + "up_proj", inter, hidden, false);
        p.linear(f + "down_proj", hidden, inter, false);
    }
    p.norm("norm", hidden, false);
    return true;
}

bool infer_config(const svg_shape_map &shapes, json *config) {
    const std::vector<int64_t> *embed, *q, *k, *gate;
    if (!svg_convert_need(shapes, "embed_tokens.weight", 2, &embed) || !svg_convert_need(shapes, layer(0) + "self_attn.q_proj.weight", 2, &q) ||
        !svg_convert_need(shapes, layer(0) + "self_attn.k_proj.weight", 2, &k) ||
        !svg_convert_need(shapes, layer(0) + "mlp.gate_proj.weight", 2, &gate))
        return false;
    // The shapes fix the attention widths, not how they split into heads:
    // every released Llama 2 / 3 model has 128-dim heads.
    const int64_t head_dim = 128;
    if ((*q)[0] % head_dim || (*k)[0] % head_dim)
        return svg_err(false, "cannot infer the config: attention widths %lld / %lld are not multiples of 128-dim heads (give --config)",
                       (long long)(*q)[0], (long long)(*k)[0]);
    int64_t n_layers = 0;
    for (const auto &kv : shapes) n_layers = std::max(n_layers, layer_of(kv.first) + 1);
    const bool llama3 = (*embed)[0] >= 128000;  // Llama 3's 128256-token vocabulary

    json c = json::object();
    c["architectures"] = {"LlamaModel"};
    c["model_type"] = "llama";
    c["vocab_size"] = (*embed)[0];
    c["hidden_size"] = (*embed)[1];
    c["intermediate_size"] = (*gate)[0];
    c["num_hidden_layers"] = n_layers;
    c["num_attention_heads"] = (*q)[0] / head_dim;
    c["num_key_value_heads"] = (*k)[0] / head_dim;
    c["head_dim"] = head_dim;
    c["hidden_act"] = "silu";
    c["rms_norm_eps"] = 1e-5;  // Llama 2 and 3
    c["rope_theta"] = llama3 ? 500000.0 : 10000.0;
    *config = std::move(c);
    return true;
}

}  // namespace

const svg_convert_arch svg_convert_arch_llama = {
    "LlamaModel", "llama", "text_encoder", rename, infer_config, parameters,
};
const svg_convert_arch svg_convert_arch_llama_causal_lm = {
    "LlamaForCausalLM", "llama", "text_encoder", rename, infer_config, parameters,
};
