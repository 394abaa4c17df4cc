// umT5 / T5 v1.1 text encoders (transformers UMT5EncoderModel, Wan's; and
// T5EncoderModel, CogVideoX's): tensor names, the parameter list of a config,
// and config inference from a single file's shapes. One set of functions;
// the classes differ only in which blocks carry a relative position bias
// table (umT5: every block; T5: block 0, shared by all).
//
// transformers configs have no _class_name; without one the converter picks
// the class whose rename accepts the tensor names, and these tell the two
// apart by where the bias tables are.
#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "convert/convert.h"
#include "src/svg-impl.h"

namespace {

using json = nlohmann::json;

// The position-bias table is stored under a shorter leaf name: "te." + the
// transformers name of a two-digit block's table is 72 bytes, past the 63 a
// model file allows. models/umt5.cpp reads it under the same name.
const std::string k_bias_transformers = "SelfAttention.relative_attention_bias.weight";
const std::string k_bias = "SelfAttention.relative_bias.weight";

const char *class_name(bool per_layer_bias) { return per_layer_bias ? "UMT5EncoderModel" : "T5EncoderModel"; }

bool ends_with(const std::string &s, const std::string &suffix) {
    return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), std::string::npos, suffix) == 0;
}

// "encoder.block.<digits>." → the block number, else -1.
int64_t block_of(const std::string &s) {
    static const std::string p = "encoder.block.";
    if (s.rfind(p, 0) != 0) return -1;
    size_t i = p.size();
    while (i < s.size() && isdigit((unsigned char)s[i])) i++;
    if (i == p.size() || i >= s.size() || s[i] != '.' || i - p.size() > 6) return -1;
    return std::stoll(s.substr(p.size(), i - p.size()));
}

std::string block(int64_t i) { return "encoder.block." + std::to_string(i) + ".layer."; }

// llama.cpp's T5 naming (the GGUF files of the community, e.g.
// umt5-xxl-encoder-Q5_K_M.gguf) → transformers'; "" for a decoder's tensors
// (left out), the name itself when it is not one of them.
std::string from_llamacpp(const std::string &n) {
    static const struct {
        const char *from, *to;
    } leaf[] = {{"attn_q", "0.SelfAttention.q"},     {"attn_k", "0.SelfAttention.k"},        {"attn_v", "0.SelfAttention.v"},
                {"attn_o", "0.SelfAttention.o"},     {"attn_rel_b", "0.SelfAttention.relative_attention_bias"},
                {"attn_norm", "0.layer_norm"},       {"ffn_gate", "1.DenseReluDense.wi_0"},  {"ffn_up", "1.DenseReluDense.wi_1"},
                {"ffn_down", "1.DenseReluDense.wo"}, {"ffn_norm", "1.layer_norm"}};
    if (n == "token_embd.weight") return "shared.weight";
    if (n == "enc.output_norm.weight") return "encoder.final_layer_norm.weight";
    if (n.rfind("dec.", 0) == 0 || n == "output.weight") return "";
    if (n.rfind("enc.blk.", 0) != 0) return n;
    const size_t dot = n.find('.', 8), last = n.rfind('.');
    if (dot == std::string::npos || last <= dot) return n;
    const std::string index = n.substr(8, dot - 8), what = n.substr(dot + 1, last - dot - 1);
    for (const auto &l : leaf)
        if (what == l.from) return block(std::stoll(index)) + l.to + n.substr(last);
    return n;
}

bool rename(const std::vector<std::string> &given, std::vector<std::string> *out, std::string *scheme,
            bool per_layer_bias) {
    const bool llamacpp = std::find(given.begin(), given.end(), "enc.blk.0.attn_q.weight") != given.end();
    std::vector<std::string> names = given;
    if (llamacpp)
        for (std::string &n : names) n = from_llamacpp(n);
    bool has_q = false, has_shared = false, later_bias = false;
    int64_t n_blocks = 0;
    for (const std::string &n : names) {
        const int64_t b = block_of(n);
        n_blocks = std::max(n_blocks, b + 1);
        later_bias = later_bias || (b > 0 && ends_with(n, k_bias_transformers));
        has_q = has_q || n == block(0) + "0.SelfAttention.q.weight";
        has_shared = has_shared || n == "shared.weight";
    }
    if (!has_q)
        return svg_err(false, "tensor names are not a transformers %s's (no %s0.SelfAttention.q.weight)",
                       class_name(per_layer_bias), block(0).c_str());
    // with one block the two classes are the same network
    if (n_blocks > 1 && later_bias != per_layer_bias)
        return svg_err(false, "%s, not a %s",
                       later_bias ? "blocks past 0 have a relative_attention_bias: a umT5 encoder"
                                  : "only block 0 has a relative_attention_bias: a T5 encoder",
                       class_name(per_layer_bias));
    out->resize(names.size());
    for (size_t i = 0; i < names.size(); i++) {
        const std::string &n = names[i];
        if (ends_with(n, k_bias_transformers))
            (*out)[i] = n.substr(0, n.size() - k_bias_transformers.size()) + k_bias;
        else if (n == "encoder.embed_tokens.weight" && !has_shared)  // the tied copy of shared.weight
            (*out)[i] = "shared.weight";
        else
            (*out)[i] = n;
    }
    *scheme = llamacpp ? "llama.cpp" : "transformers";
    return true;
}

bool parameters(const json &c, std::vector<svg_convert_param> *out, bool per_layer_bias) {
    if (!c.is_object()) return svg_err(false, "config: not a JSON object");
    int64_t vocab, d_model, d_kv, d_ff, n_layers, heads, buckets;
    if (!svg_convert_config_int(c, "vocab_size", &vocab) || !svg_convert_config_int(c, "d_model", &d_model) || !svg_convert_config_int(c, "d_kv", &d_kv) ||
        !svg_convert_config_int(c, "d_ff", &d_ff) || !svg_convert_config_int(c, "num_layers", &n_layers) || !svg_convert_config_int(c, "num_heads", &heads) ||
        !svg_convert_config_int(c, "relative_attention_num_buckets", &buckets))
        return false;
    const auto ff = c.find("feed_forward_proj");
    if (ff == c.end() || *ff != "gated-gelu")
        return svg_err(false, "config: feed_forward_proj %s is not supported (only \"gated-gelu\")",
                       ff == c.end() ? "(missing)" : ff->dump().c_str());
    const int64_t inner = heads * d_kv;
    std::vector<svg_convert_param> &p = *out;
    p.clear();
    // the embedding takes the linear weights' type: it is a fifth of
    // umT5-XXL's bytes, and svg_get_rows reads every weight type
    p.push_back({"shared.weight", {vocab, d_model}, SVG_PARAM_LINEAR});
    for (int64_t l = 0; l < n_layers; l++) {
        const std::string a = block(l) + "0.SelfAttention.", f = block(l) + "1.DenseReluDense.";
        for (const char *proj : {"q", "k", "v"})
            p.push_back({a + proj + ".weight", {inner, d_model}, SVG_PARAM_LINEAR});
        p.push_back({a + "o.weight", {d_model, inner}, SVG_PARAM_LINEAR});
        if (per_layer_bias || l == 0) p.push_back({block(l) + "0." + k_bias, {buckets, heads}, SVG_PARAM_TABLE});
        p.push_back({block(l) + "0.layer_norm.weight", {d_model}, SVG_PARAM_NORM});
        p.push_back({f + "wi_0.weight", {d_ff, d_model}, SVG_PARAM_LINEAR});
        p.push_back({f + "wi_1.weight", {d_ff, d_model}, SVG_PARAM_LINEAR});
        p.push_back({f + "wo.weight", {d_model, d_ff}, SVG_PARAM_LINEAR});
        p.push_back({block(l) + "1.layer_norm.weight", {d_model}, SVG_PARAM_NORM});
    }
    p.push_back({"encoder.final_layer_norm.weight", {d_model}, SVG_PARAM_NORM});
    return true;
}


bool infer_config(const svg_shape_map &shapes, json *config, bool per_layer_bias) {
    const std::vector<int64_t> *shared, *q, *bias, *wi;
    if (!svg_convert_need(shapes, "shared.weight", 2, &shared) || !svg_convert_need(shapes, block(0) + "0.SelfAttention.q.weight", 2, &q) ||
        !svg_convert_need(shapes, block(0) + "0." + k_bias, 2, &bias) || !svg_convert_need(shapes, block(0) + "1.DenseReluDense.wi_0.weight", 2, &wi))
        return false;
    const int64_t heads = (*bias)[1];
    if ((*q)[0] % heads)
        return svg_err(false, "cannot infer the config: attention width %lld is not a multiple of the %lld heads",
                       (long long)(*q)[0], (long long)heads);
    int64_t n_layers = 0;
    for (const auto &kv : shapes) n_layers = std::max(n_layers, block_of(kv.first) + 1);

    json c = json::object();
    c["architectures"] = {class_name(per_layer_bias)};
    c["model_type"] = per_layer_bias ? "umt5" : "t5";
    c["vocab_size"] = (*shared)[0];
    c["d_model"] = (*shared)[1];
    c["d_kv"] = (*q)[0] / heads;
    c["d_ff"] = (*wi)[0];
    c["num_layers"] = n_layers;
    c["num_heads"] = heads;
    c["relative_attention_num_buckets"] = (*bias)[0];
    // fixed in umT5-XXL and every T5 v1.1 release
    c["relative_attention_max_distance"] = 128;
    c["layer_norm_epsilon"] = 1e-6;
    c["feed_forward_proj"] = "gated-gelu";
    *config = std::move(c);
    return true;
}

using umt5_fns = svg_convert_variant<rename, infer_config, parameters, true>;
using t5_fns = svg_convert_variant<rename, infer_config, parameters, false>;

}  // namespace

const svg_convert_arch svg_convert_arch_umt5 = {
    "UMT5EncoderModel", "umt5", "text_encoder", umt5_fns::rename, umt5_fns::infer_config, umt5_fns::parameters,
};
const svg_convert_arch svg_convert_arch_t5 = {
    "T5EncoderModel", "t5", "text_encoder", t5_fns::rename, t5_fns::infer_config, t5_fns::parameters,
};
