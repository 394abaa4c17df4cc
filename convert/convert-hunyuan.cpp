// HunyuanVideo transformer (diffusers HunyuanVideoTransformer3DModel): tensor
// names of the diffusers and the original release (ComfyUI's
// hunyuan_video_t2v_720p_bf16.safetensors) checkpoints, the parameter list of
// a config, and config inference from a single file's shapes.
//
// The original checkpoints fuse projections diffusers keeps apart; they are
// split by rows (convert.h, svg_convert_target): q/k/v (img_attn_qkv,
// txt_attn_qkv, the refiner's self_attn_qkv), the single blocks' linear1
// (q, k, v and the MLP input), and the final adaLN whose (shift, scale)
// halves diffusers stores as (scale, shift).
//
// Two diffusers module paths are longer than a GGUF tensor name allows with
// the "dit." prefix (63 bytes), so the file stores them shortened:
//   context_embedder.token_refiner.refiner_blocks.N.  → context_embedder.refiner.N.
//   context_embedder.time_text_embed.                 → context_embedder.time.
#include <cctype>
#include <cstring>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "convert/convert.h"
#include "src/svg-impl.h"

namespace {

using json = nlohmann::json;

const char *const k_long_refiner = "context_embedder.token_refiner.refiner_blocks.";
const char *const k_long_time = "context_embedder.time_text_embed.";

bool starts_with(const std::string &s, const char *p) { return s.rfind(p, 0) == 0; }

std::string shorten(const std::string &n) {
    if (starts_with(n, k_long_refiner)) return "context_embedder.refiner." + n.substr(strlen(k_long_refiner));
    if (starts_with(n, k_long_time)) return "context_embedder.time." + n.substr(strlen(k_long_time));
    return n;
}

// Original module paths → the file's names; '|' joins the parameters a
// fused tensor stacks. A rule matches a path that equals `from` or continues
// it with '.'.
struct rename_rule {
    const char *from;
    const char *to;
};

const rename_rule k_top_rules[] = {
    {"img_in.proj", "x_embedder.proj"},
    {"time_in.mlp.0", "time_text_embed.timestep_embedder.linear_1"},
    {"time_in.mlp.2", "time_text_embed.timestep_embedder.linear_2"},
    {"guidance_in.mlp.0", "time_text_embed.guidance_embedder.linear_1"},
    {"guidance_in.mlp.2", "time_text_embed.guidance_embedder.linear_2"},
    {"vector_in.in_layer", "time_text_embed.text_embedder.linear_1"},
    {"vector_in.out_layer", "time_text_embed.text_embedder.linear_2"},
    {"txt_in.input_embedder", "context_embedder.proj_in"},
    {"txt_in.t_embedder.mlp.0", "context_embedder.time.timestep_embedder.linear_1"},
    {"txt_in.t_embedder.mlp.2", "context_embedder.time.timestep_embedder.linear_2"},
    {"txt_in.c_embedder.linear_1", "context_embedder.time.text_embedder.linear_1"},
    {"txt_in.c_embedder.linear_2", "context_embedder.time.text_embedder.linear_2"},
    {"final_layer.linear", "proj_out"},
    {"final_layer.adaLN_modulation.1", "norm_out.linear#1/2|norm_out.linear#0/2"},
};
const rename_rule k_refiner_rules[] = {
    {"norm1", "norm1"},
    {"norm2", "norm2"},
    {"self_attn_qkv", "attn.to_q|attn.to_k|attn.to_v"},
    {"self_attn_proj", "attn.to_out.0"},
    {"mlp.fc1", "ff.net.0.proj"},
    {"mlp.fc2", "ff.net.2"},
    {"adaLN_modulation.1", "norm_out.linear"},
};
const rename_rule k_double_rules[] = {
    {"img_mod.linear", "norm1.linear"},
    {"txt_mod.linear", "norm1_context.linear"},
    {"img_attn_qkv", "attn.to_q|attn.to_k|attn.to_v"},
    {"txt_attn_qkv", "attn.add_q_proj|attn.add_k_proj|attn.add_v_proj"},
    {"img_attn_q_norm", "attn.norm_q"},
    {"img_attn_k_norm", "attn.norm_k"},
    {"txt_attn_q_norm", "attn.norm_added_q"},
    {"txt_attn_k_norm", "attn.norm_added_k"},
    {"img_attn_proj", "attn.to_out.0"},
    {"txt_attn_proj", "attn.to_add_out"},
    {"img_mlp.fc1", "ff.net.0.proj"},
    {"img_mlp.fc2", "ff.net.2"},
    {"txt_mlp.fc1", "ff_context.net.0.proj"},
    {"txt_mlp.fc2", "ff_context.net.2"},
};
const rename_rule k_single_rules[] = {
    {"linear1", "attn.to_q|attn.to_k|attn.to_v|proj_mlp"},
    {"linear2", "proj_out"},
    {"q_norm", "attn.norm_q"},
    {"k_norm", "attn.norm_k"},
    {"modulation.linear", "norm.linear"},
};

// "<prefix><digits>." → the length of that prefix, else 0.
size_t block_prefix(const std::string &s, const char *prefix) {
    if (!starts_with(s, prefix)) return 0;
    size_t i = strlen(prefix);
    const size_t d = i;
    while (i < s.size() && isdigit((unsigned char)s[i])) i++;
    return i > d && i < s.size() && s[i] == '.' ? i + 1 : 0;
}

// path + rest through the first matching rule, `out_prefix` before every
// stacked name and `rest` (".weight") after each; false when none matches.
template <size_t N>
bool apply(const rename_rule (&rules)[N], const std::string &path, const std::string &out_prefix, std::string *out) {
    for (const rename_rule &r : rules) {
        const size_t n = strlen(r.from);
        if (path.compare(0, n, r.from) != 0 || (path.size() != n && path[n] != '.')) continue;
        const std::string rest = path.substr(n);
        out->clear();
        std::string to = r.to;
        for (size_t b = 0;;) {
            const size_t e = std::min(to.find('|', b), to.size());
            std::string part = to.substr(b, e - b), block;
            const size_t hash = part.find('#');
            if (hash != std::string::npos) {
                block = part.substr(hash);
                part.erase(hash);
            }
            *out += (out->empty() ? "" : "|") + out_prefix + part + rest + block;
            if (e == to.size()) break;
            b = e + 1;
        }
        return true;
    }
    return false;
}

// A block's rules under "<from><N>." → "<to><N>.".
template <size_t N>
bool block_rules(const rename_rule (&rules)[N], const std::string &name, const char *from, const char *to, bool *matched, std::string *out) {
    const size_t b = block_prefix(name, from);
    if (!b) return false;
    *matched = apply(rules, name.substr(b), to + name.substr(strlen(from), b - strlen(from)), out);
    return true;
}

bool original_to_file_name(const std::string &name, std::string *out) {
    bool ok = false;
    if (block_rules(k_refiner_rules, name, "txt_in.individual_token_refiner.blocks.", "context_embedder.refiner.", &ok, out) ||
        block_rules(k_double_rules, name, "double_blocks.", "transformer_blocks.", &ok, out) ||
        block_rules(k_single_rules, name, "single_blocks.", "single_transformer_blocks.", &ok, out))
        return ok;
    return apply(k_top_rules, name, "", out);
}

bool is_diffusers_name(const std::string &name) {
    return starts_with(name, "context_embedder.") || starts_with(name, "transformer_blocks.") || starts_with(name, "single_transformer_blocks.") ||
           starts_with(name, "time_text_embed.") || starts_with(name, "x_embedder.") || starts_with(name, "norm_out.") ||
           starts_with(name, "proj_out.");
}

bool hunyuan_rename(const std::vector<std::string> &names, std::vector<std::string> *out, std::string *scheme) {
    bool refiner = false, singles = false;
    for (const std::string &n : names) {
        refiner = refiner || starts_with(n, k_long_refiner) || starts_with(n, "txt_in.individual_token_refiner.");
        singles = singles || starts_with(n, "single_transformer_blocks.") || starts_with(n, "single_blocks.");
    }
    if (!refiner || !singles)
        return svg_err(false, "tensor names are not a HunyuanVideo transformer's (no token refiner, no single-stream blocks)");
    if (!svg_convert_rename_two_schemes(names, original_to_file_name, is_diffusers_name, "HunyuanVideo", out, scheme)) return false;
    for (std::string &n : *out) n = shorten(n);
    return true;
}

int64_t count_blocks(const svg_shape_map &shapes, const std::string &prefix, const std::string &suffix) {
    int64_t n = 0;
    while (shapes.count(prefix + std::to_string(n) + suffix)) n++;
    return n;
}

// The shapes fix the inner dim but not how it splits into heads: the release
// (and every HunyuanVideo checkpoint) uses 128-dim heads, so the heads are
// inner / 128, and the RoPE axes the release's 16/56/56.
bool hunyuan_infer_config(const svg_shape_map &shapes, json *config) {
    const std::vector<int64_t> *pe, *proj_in, *pooled, *mlp, *out;
    if (!svg_convert_need(shapes, "x_embedder.proj.weight", 5, &pe) || !svg_convert_need(shapes, "context_embedder.proj_in.weight", 2, &proj_in) ||
        !svg_convert_need(shapes, "time_text_embed.text_embedder.linear_1.weight", 2, &pooled) ||
        !svg_convert_need(shapes, "transformer_blocks.0.ff.net.0.proj.weight", 2, &mlp) || !svg_convert_need(shapes, "proj_out.weight", 2, &out))
        return false;
    const int64_t D = (*pe)[0], head_dim = 128;
    if (D % head_dim) return svg_err(false, "inner dim %lld is not a multiple of 128-dim heads: give the config.json (--config)", (long long)D);
    const int64_t p = (*pe)[3], pt = (*pe)[2];
    json c;
    c["_class_name"] = "HunyuanVideoTransformer3DModel";
    c["in_channels"] = (*pe)[1];
    c["out_channels"] = (*out)[0] / (pt * p * p);
    c["num_attention_heads"] = D / head_dim;
    c["attention_head_dim"] = head_dim;
    c["num_layers"] = count_blocks(shapes, "transformer_blocks.", ".norm1.linear.weight");
    c["num_single_layers"] = count_blocks(shapes, "single_transformer_blocks.", ".norm.linear.weight");
    c["num_refiner_layers"] = count_blocks(shapes, "context_embedder.refiner.", ".norm1.weight");
    c["mlp_ratio"] = (double)(*mlp)[0] / (double)D;
    c["patch_size"] = p;
    c["patch_size_t"] = pt;
    c["qk_norm"] = "rms_norm";
    c["guidance_embeds"] = shapes.count("time_text_embed.guidance_embedder.linear_1.weight") > 0;
    c["text_embed_dim"] = (*proj_in)[1];
    c["pooled_projection_dim"] = (*pooled)[1];
    c["rope_theta"] = 256.0;
    c["rope_axes_dim"] = {16, 56, 56};
    *config = std::move(c);
    return true;
}

bool hunyuan_parameters(const json &c, std::vector<svg_convert_param> *out) {
    if (!c.is_object()) return svg_err(false, "config: not a JSON object");
    // defaults: HunyuanVideoTransformer3DModel.__init__
    int64_t heads, head_dim, in_ch, out_ch, layers, singles, refiners, p, pt, text_dim, pooled_dim;
    double mlp_ratio;
    bool guidance;
    if (!svg_convert_config_opt_int(c, "num_attention_heads", 24, &heads) || !svg_convert_config_opt_int(c, "attention_head_dim", 128, &head_dim) ||
        !svg_convert_config_opt_int(c, "in_channels", 16, &in_ch) || !svg_convert_config_opt_int(c, "out_channels", 16, &out_ch) ||
        !svg_convert_config_opt_int(c, "num_layers", 20, &layers) || !svg_convert_config_opt_int(c, "num_single_layers", 40, &singles) ||
        !svg_convert_config_opt_int(c, "num_refiner_layers", 2, &refiners) || !svg_convert_config_opt_int(c, "patch_size", 2, &p) ||
        !svg_convert_config_opt_int(c, "patch_size_t", 1, &pt) || !svg_convert_config_opt_int(c, "text_embed_dim", 4096, &text_dim) ||
        !svg_convert_config_opt_int(c, "pooled_projection_dim", 768, &pooled_dim) ||
        !svg_convert_config_opt_float(c, "mlp_ratio", 4.0, &mlp_ratio) || !svg_convert_config_opt_bool(c, "guidance_embeds", true, &guidance))
        return false;
    const auto qk = c.find("qk_norm");
    if (qk != c.end() && !(qk->is_string() && qk->get<std::string>() == "rms_norm")) return svg_err(false, "config: qk_norm must be \"rms_norm\"");
    const auto icond = c.find("image_condition_type");
    if (icond != c.end() && !icond->is_null())
        return svg_err(false, "config: image_condition_type is set: HunyuanVideo image-to-video is not supported (text-to-video is)");
    if (!(mlp_ratio > 0)) return svg_err(false, "config: mlp_ratio must be positive");
    const int64_t D = heads * head_dim, mlp = (int64_t)(D * mlp_ratio), refiner_mlp = 4 * D;
    const svg_param_list l{out};
    out->clear();
    l.conv("x_embedder.proj", {D, in_ch, pt, p, p});
    // the token refiner (its MLP ratio is fixed at 4 in the reference)
    l.linear("context_embedder.time.timestep_embedder.linear_1", D, 256);
    l.linear("context_embedder.time.timestep_embedder.linear_2", D, D);
    l.linear("context_embedder.time.text_embedder.linear_1", D, text_dim);
    l.linear("context_embedder.time.text_embedder.linear_2", D, D);
    l.linear("context_embedder.proj_in", D, text_dim);
    for (int64_t i = 0; i < refiners; i++) {
        const std::string b = "context_embedder.refiner." + std::to_string(i) + ".";
        l.norm(b + "norm1", D);
        for (const char *proj : {"attn.to_q", "attn.to_k", "attn.to_v", "attn.to_out.0"}) l.linear(b + proj, D, D);
        l.norm(b + "norm2", D);
        l.linear(b + "ff.net.0.proj", refiner_mlp, D);
        l.linear(b + "ff.net.2", D, refiner_mlp);
        l.linear(b + "norm_out.linear", 2 * D, D);
    }
    // condition: time, pooled text, guidance
    l.linear("time_text_embed.timestep_embedder.linear_1", D, 256);
    l.linear("time_text_embed.timestep_embedder.linear_2", D, D);
    l.linear("time_text_embed.text_embedder.linear_1", D, pooled_dim);
    l.linear("time_text_embed.text_embedder.linear_2", D, D);
    if (guidance) {
        l.linear("time_text_embed.guidance_embedder.linear_1", D, 256);
        l.linear("time_text_embed.guidance_embedder.linear_2", D, D);
    }
    for (int64_t i = 0; i < layers; i++) {
        const std::string b = "transformer_blocks." + std::to_string(i) + ".";
        l.linear(b + "norm1.linear", 6 * D, D);
        l.linear(b + "norm1_context.linear", 6 * D, D);
        for (const char *proj : {"to_q", "to_k", "to_v", "add_k_proj", "add_v_proj", "add_q_proj", "to_out.0", "to_add_out"})
            l.linear(b + "attn." + proj, D, D);
        for (const char *n : {"norm_q", "norm_k", "norm_added_q", "norm_added_k"}) l.norm(b + "attn." + n, head_dim, false);
        for (const char *ff : {"ff", "ff_context"}) {
            l.linear(b + ff + ".net.0.proj", mlp, D);
            l.linear(b + ff + ".net.2", D, mlp);
        }
    }
    for (int64_t i = 0; i < singles; i++) {
        const std::string b = "single_transformer_blocks." + std::to_string(i) + ".";
        for (const char *proj : {"to_q", "to_k", "to_v"}) l.linear(b + "attn." + proj, D, D);
        l.norm(b + "attn.norm_q", head_dim, false);
        l.norm(b + "attn.norm_k", head_dim, false);
        l.linear(b + "norm.linear", 3 * D, D);
        l.linear(b + "proj_mlp", mlp, D);
        l.linear(b + "proj_out", D, D + mlp);
    }
    l.linear("norm_out.linear", 2 * D, D);
    l.linear("proj_out", pt * p * p * out_ch, D);
    return true;
}

}  // namespace

const svg_convert_arch svg_convert_arch_hunyuan = {
    "HunyuanVideoTransformer3DModel", "hunyuan", "transformer", hunyuan_rename, hunyuan_infer_config, hunyuan_parameters,
};
