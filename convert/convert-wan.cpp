// Wan 2.1 / 2.2 transformer (diffusers WanTransformer3DModel): the original
// release's tensor names → diffusers names, the parameter list of a config,
// and config inference from a single-file checkpoint's shapes.
#include <algorithm>
#include <cctype>
#include <cstring>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "convert/convert.h"
#include "src/svg-impl.h"

namespace {

using json = nlohmann::json;

// Original (Wan-AI release, ComfyUI) module paths → diffusers module paths.
// A rule matches a name that equals `from` or continues it with '.', so
// "cross_attn.k" does not catch "cross_attn.k_img.weight".
struct rename_rule {
    const char *from;
    const char *to;
};

const rename_rule k_top_rules[] = {
    {"text_embedding.0", "condition_embedder.text_embedder.linear_1"},
    {"text_embedding.2", "condition_embedder.text_embedder.linear_2"},
    {"time_embedding.0", "condition_embedder.time_embedder.linear_1"},
    {"time_embedding.2", "condition_embedder.time_embedder.linear_2"},
    {"time_projection.1", "condition_embedder.time_proj"},
    {"head.head", "proj_out"},
    {"head.modulation", "scale_shift_table"},
    {"img_emb.proj.0", "condition_embedder.image_embedder.norm1"},
    {"img_emb.proj.1", "condition_embedder.image_embedder.ff.net.0.proj"},
    {"img_emb.proj.3", "condition_embedder.image_embedder.ff.net.2"},
    {"img_emb.proj.4", "condition_embedder.image_embedder.norm2"},
    {"img_emb.emb_pos", "condition_embedder.image_embedder.pos_embed"},
};

// Inside "blocks.N.".
const rename_rule k_block_rules[] = {
    {"self_attn.q", "attn1.to_q"},
    {"self_attn.k", "attn1.to_k"},
    {"self_attn.v", "attn1.to_v"},
    {"self_attn.o", "attn1.to_out.0"},
    {"self_attn.norm_q", "attn1.norm_q"},
    {"self_attn.norm_k", "attn1.norm_k"},
    {"cross_attn.q", "attn2.to_q"},
    {"cross_attn.k", "attn2.to_k"},
    {"cross_attn.v", "attn2.to_v"},
    {"cross_attn.o", "attn2.to_out.0"},
    {"cross_attn.norm_q", "attn2.norm_q"},
    {"cross_attn.norm_k", "attn2.norm_k"},
    {"cross_attn.k_img", "attn2.add_k_proj"},
    {"cross_attn.v_img", "attn2.add_v_proj"},
    {"cross_attn.norm_k_img", "attn2.norm_added_k"},
    // the release's norm3 is the affine cross-attention norm (its norm1/norm2
    // have no parameters); diffusers calls it norm2
    {"norm3", "norm2"},
    {"ffn.0", "ffn.net.0.proj"},
    {"ffn.2", "ffn.net.2"},
    {"modulation", "scale_shift_table"},
};

bool starts_with(const std::string &s, const char *p) { return s.rfind(p, 0) == 0; }

// Apply the first matching rule to s; false when none matches.
template <size_t N>
bool apply_rules(const rename_rule (&rules)[N], const std::string &s, std::string *out) {
    for (const rename_rule &r : rules) {
        const size_t n = strlen(r.from);
        if (s.compare(0, n, r.from) == 0 && (s.size() == n || s[n] == '.')) {
            *out = r.to + s.substr(n);
            return true;
        }
    }
    return false;
}

// "blocks.<digits>." → the length of that prefix, else 0.
size_t block_prefix(const std::string &s) {
    if (!starts_with(s, "blocks.")) return 0;
    size_t i = 7;
    while (i < s.size() && isdigit((unsigned char)s[i])) i++;
    return i > 7 && i < s.size() && s[i] == '.' ? i + 1 : 0;
}

// The original name's diffusers name; false when no rule applies.
bool original_to_diffusers(const std::string &name, std::string *out) {
    const size_t b = block_prefix(name);
    if (b) {
        std::string rest;
        if (!apply_rules(k_block_rules, name.substr(b), &rest)) return false;
        *out = name.substr(0, b) + rest;
        return true;
    }
    return apply_rules(k_top_rules, name, out);
}

// Module paths only the diffusers naming has.
bool is_diffusers_name(const std::string &name) {
    if (starts_with(name, "condition_embedder.") || starts_with(name, "proj_out.") || name == "scale_shift_table")
        return true;
    const size_t b = block_prefix(name);
    if (!b) return false;
    const std::string rest = name.substr(b);
    return starts_with(rest, "attn1.") || starts_with(rest, "attn2.") || starts_with(rest, "ffn.net.") ||
           rest == "scale_shift_table";
}

bool wan_rename(const std::vector<std::string> &names, std::vector<std::string> *out, std::string *scheme) {
    return svg_convert_rename_two_schemes(
        names, [](const std::string &n, std::string *d) { return original_to_diffusers(n, d); }, is_diffusers_name, "Wan", out,
        scheme);
}

// ------------------------------------------------------------------ config

// An integer key: `def` when absent; an error when present but not an integer.
bool get_int(const json &c, const char *key, int64_t def, int64_t *out) {
    const auto it = c.find(key);
    if (it == c.end()) {
        *out = def;
        return true;
    }
    if (!it->is_number_integer()) return svg_err(false, "config: %s must be an integer", key);
    *out = it->get<int64_t>();
    if (*out <= 0) return svg_err(false, "config: %s must be positive, got %lld", key, (long long)*out);
    return true;
}

// An optional integer key: 0 when absent or null (diffusers' None).
bool get_opt_int(const json &c, const char *key, int64_t *out) {
    const auto it = c.find(key);
    if (it == c.end() || it->is_null()) {
        *out = 0;
        return true;
    }
    return get_int(c, key, 0, out);
}

bool wan_parameters(const json &c, std::vector<svg_convert_param> *out) {
    if (!c.is_object()) return svg_err(false, "config: not a JSON object");
    // defaults: WanTransformer3DModel.__init__ (old config.json files lack newer keys)
    int64_t heads, head_dim, in_ch, out_ch, text_dim, freq_dim, ffn_dim, n_layers;
    int64_t image_dim, added_kv, pos_len;
    if (!get_int(c, "num_attention_heads", 40, &heads) || !get_int(c, "attention_head_dim", 128, &head_dim) ||
        !get_int(c, "in_channels", 16, &in_ch) || !get_opt_int(c, "out_channels", &out_ch) ||
        !get_int(c, "text_dim", 4096, &text_dim) || !get_int(c, "freq_dim", 256, &freq_dim) ||
        !get_int(c, "ffn_dim", 13824, &ffn_dim) || !get_int(c, "num_layers", 40, &n_layers) ||
        !get_opt_int(c, "image_dim", &image_dim) || !get_opt_int(c, "added_kv_proj_dim", &added_kv) ||
        !get_opt_int(c, "pos_embed_seq_len", &pos_len))
        return false;
    if (!c.contains("out_channels")) out_ch = 16;
    if (!out_ch) out_ch = in_ch;  // diffusers: out_channels or in_channels

    std::vector<int64_t> patch = {1, 2, 2};
    if (c.contains("patch_size")) {
        const json &p = c["patch_size"];
        if (!p.is_array() || p.size() != 3) return svg_err(false, "config: patch_size must be a list of 3 integers");
        for (size_t i = 0; i < 3; i++) {
            if (!p[i].is_number_integer() || p[i].get<int64_t>() <= 0)
                return svg_err(false, "config: patch_size must be a list of 3 positive integers");
            patch[i] = p[i].get<int64_t>();
        }
    }
    bool cross_attn_norm = true;
    if (c.contains("cross_attn_norm")) {
        if (!c["cross_attn_norm"].is_boolean()) return svg_err(false, "config: cross_attn_norm must be a boolean");
        cross_attn_norm = c["cross_attn_norm"].get<bool>();
    }
    // WanAttention always builds its q/k norms over all heads at once
    if (c.contains("qk_norm") && c["qk_norm"] != "rms_norm_across_heads")
        return svg_err(false, "config: qk_norm %s is not supported (only \"rms_norm_across_heads\")",
                       c["qk_norm"].dump().c_str());

    const int64_t D = heads * head_dim;
    const int64_t patch_vol = patch[0] * patch[1] * patch[2];
    std::vector<svg_convert_param> &p = *out;
    p.clear();
    auto linear = [&](const std::string &name, int64_t n_out, int64_t n_in) {
        p.push_back({name + ".weight", {n_out, n_in}, SVG_PARAM_LINEAR});
        p.push_back({name + ".bias", {n_out}, SVG_PARAM_BIAS});
    };
    auto norm = [&](const std::string &name, int64_t n, bool bias) {
        p.push_back({name + ".weight", {n}, SVG_PARAM_NORM});
        if (bias) p.push_back({name + ".bias", {n}, SVG_PARAM_BIAS});
    };

    p.push_back({"patch_embedding.weight", {D, in_ch, patch[0], patch[1], patch[2]}, SVG_PARAM_CONV});
    p.push_back({"patch_embedding.bias", {D}, SVG_PARAM_BIAS});
    linear("condition_embedder.time_embedder.linear_1", D, freq_dim);
    linear("condition_embedder.time_embedder.linear_2", D, D);
    linear("condition_embedder.time_proj", 6 * D, D);
    linear("condition_embedder.text_embedder.linear_1", D, text_dim);
    linear("condition_embedder.text_embedder.linear_2", D, D);
    if (image_dim) {
        const std::string e = "condition_embedder.image_embedder.";
        norm(e + "norm1", image_dim, true);
        linear(e + "ff.net.0.proj", image_dim, image_dim);
        linear(e + "ff.net.2", D, image_dim);
        norm(e + "norm2", D, true);
        if (pos_len) p.push_back({e + "pos_embed", {1, pos_len, image_dim}, SVG_PARAM_TABLE});
    }
    for (int64_t l = 0; l < n_layers; l++) {
        const std::string b = "blocks." + std::to_string(l) + ".";
        for (const char *attn : {"attn1.", "attn2."}) {
            const std::string a = b + attn;
            linear(a + "to_q", D, D);
            linear(a + "to_k", D, D);
            linear(a + "to_v", D, D);
            linear(a + "to_out.0", D, D);
            norm(a + "norm_q", D, false);
            norm(a + "norm_k", D, false);
            if (added_kv && attn[4] == '2') {
                linear(a + "add_k_proj", D, added_kv);
                linear(a + "add_v_proj", D, added_kv);
                norm(a + "norm_added_k", D, false);
            }
        }
        if (cross_attn_norm) norm(b + "norm2", D, true);
        linear(b + "ffn.net.0.proj", ffn_dim, D);
        linear(b + "ffn.net.2", D, ffn_dim);
        p.push_back({b + "scale_shift_table", {1, 6, D}, SVG_PARAM_TABLE});
    }
    linear("proj_out", out_ch * patch_vol, D);
    p.push_back({"scale_shift_table", {1, 2, D}, SVG_PARAM_TABLE});
    return true;
}


bool wan_infer_config_default(const svg_shape_map &shapes, json *config) {
    // every Wan release (1.3B, 5B, 14B) splits the inner dim into heads of 128
    return svg_wan_infer_config(shapes, 128, config);
}

}  // namespace

bool svg_wan_infer_config(const svg_shape_map &shapes, int64_t head_dim, json *config) {
    const std::vector<int64_t> *patch, *text, *time, *head, *ffn;
    if (!svg_convert_need(shapes, "patch_embedding.weight", 5, &patch) ||
        !svg_convert_need(shapes, "condition_embedder.text_embedder.linear_1.weight", 2, &text) ||
        !svg_convert_need(shapes, "condition_embedder.time_embedder.linear_1.weight", 2, &time) ||
        !svg_convert_need(shapes, "proj_out.weight", 2, &head) || !svg_convert_need(shapes, "blocks.0.ffn.net.0.proj.weight", 2, &ffn))
        return false;
    const int64_t D = (*patch)[0];
    if (head_dim <= 0 || D % head_dim)
        return svg_err(false,
                       "cannot infer the attention heads: the inner dim %lld is not a multiple of "
                       "Wan's head size %lld; give the model's config.json (--config)",
                       (long long)D, (long long)head_dim);
    const int64_t patch_vol = (*patch)[2] * (*patch)[3] * (*patch)[4];
    if ((*head)[0] % patch_vol)
        return svg_err(false,
                       "cannot infer the config: proj_out.weight rows %lld are not a multiple of the patch volume %lld",
                       (long long)(*head)[0], (long long)patch_vol);
    int64_t n_layers = 0;
    for (const auto &kv : shapes) {
        const size_t b = block_prefix(kv.first);
        if (b) n_layers = std::max<int64_t>(n_layers, std::stoll(kv.first.substr(7, b - 8)) + 1);
    }

    json c = json::object();
    c["_class_name"] = "WanTransformer3DModel";
    c["attention_head_dim"] = head_dim;
    c["num_attention_heads"] = D / head_dim;
    c["in_channels"] = (*patch)[1];
    c["patch_size"] = {(*patch)[2], (*patch)[3], (*patch)[4]};
    c["num_layers"] = n_layers;
    c["ffn_dim"] = (*ffn)[0];
    c["text_dim"] = (*text)[1];
    c["freq_dim"] = (*time)[1];
    c["out_channels"] = (*head)[0] / patch_vol;
    // fixed in every release
    c["eps"] = 1e-6;
    c["qk_norm"] = "rms_norm_across_heads";
    c["rope_max_seq_len"] = 1024;
    c["cross_attn_norm"] = shapes.count("blocks.0.norm2.weight") > 0;
    const auto img = shapes.find("condition_embedder.image_embedder.norm1.weight");
    c["image_dim"] = img != shapes.end() && !img->second.empty() ? json(img->second[0]) : json(nullptr);
    const auto add_k = shapes.find("blocks.0.attn2.add_k_proj.weight");
    c["added_kv_proj_dim"] =
        add_k != shapes.end() && add_k->second.size() == 2 ? json(add_k->second[1]) : json(nullptr);
    const auto pos = shapes.find("condition_embedder.image_embedder.pos_embed");
    c["pos_embed_seq_len"] = pos != shapes.end() && pos->second.size() == 3 ? json(pos->second[1]) : json(nullptr);
    *config = std::move(c);
    return true;
}

const svg_convert_arch svg_convert_arch_wan = {
    "WanTransformer3DModel", "wan", "transformer", wan_rename, wan_infer_config_default, wan_parameters,
};
