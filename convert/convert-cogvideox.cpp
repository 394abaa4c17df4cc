// CogVideoX 1.5 (diffusers CogVideoXTransformer3DModel with patch_size_t,
// AutoencoderKLCogVideoX): the parameter lists of a config. The releases
// ship as diffusers folders (config.json + safetensors), so the names are
// diffusers' and a config is required.
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "convert/convert.h"
#include "src/svg-impl.h"

namespace {

using json = nlohmann::json;

bool has_name(const std::vector<std::string> &names, const char *name) {
    for (const std::string &n : names)
        if (n == name) return true;
    return false;
}

// Names pass through; the class is recognised by one module only it has.
bool cogvideox_rename(const std::vector<std::string> &names, std::vector<std::string> *out, std::string *scheme) {
    if (!has_name(names, "patch_embed.text_proj.weight") || !has_name(names, "transformer_blocks.0.norm1.linear.weight"))
        return svg_err(false, "tensor names are not a CogVideoX transformer's (no patch_embed.text_proj, transformer_blocks.0.norm1)");
    *out = names;
    *scheme = "diffusers";
    return true;
}

bool cogvideox_vae_rename(const std::vector<std::string> &names, std::vector<std::string> *out, std::string *scheme) {
    if (!has_name(names, "decoder.norm_out.conv_y.conv.weight"))
        return svg_err(false, "tensor names are not a CogVideoX VAE's (no decoder.norm_out.conv_y)");
    *out = names;
    *scheme = "diffusers";
    return true;
}

bool need_config(const svg_shape_map &, json *) {
    return svg_err(false, "CogVideoX checkpoints need their config.json (convert the diffusers folder, or give --config)");
}

// ------------------------------------------------------------ transformer

bool cogvideox_parameters(const json &c, std::vector<svg_convert_param> *out) {
    if (!c.is_object()) return svg_err(false, "config: not a JSON object");
    // defaults: CogVideoXTransformer3DModel.__init__
    int64_t heads, head_dim, in_ch, out_ch, time_dim, ofs_dim, text_dim, layers, p, pt;
    bool attn_bias, affine, rope, learned;
    if (!svg_convert_config_opt_int(c, "num_attention_heads", 30, &heads) ||
        !svg_convert_config_opt_int(c, "attention_head_dim", 64, &head_dim) || !svg_convert_config_opt_int(c, "in_channels", 16, &in_ch) ||
        !svg_convert_config_opt_int(c, "out_channels", 16, &out_ch) || !svg_convert_config_opt_int(c, "time_embed_dim", 512, &time_dim) ||
        !svg_convert_config_opt_int(c, "text_embed_dim", 4096, &text_dim) || !svg_convert_config_opt_int(c, "num_layers", 30, &layers) ||
        !svg_convert_config_opt_int(c, "patch_size", 2, &p) || !svg_convert_config_opt_bool(c, "attention_bias", true, &attn_bias) ||
        !svg_convert_config_opt_bool(c, "norm_elementwise_affine", true, &affine) ||
        !svg_convert_config_opt_bool(c, "use_rotary_positional_embeddings", false, &rope) ||
        !svg_convert_config_opt_bool(c, "use_learned_positional_embeddings", false, &learned))
        return false;
    const auto t = c.find("patch_size_t");
    if (t == c.end() || t->is_null())
        return svg_err(false, "config: patch_size_t is null: CogVideoX 1.0 is not supported (CogVideoX 1.5 is)");
    if (!svg_convert_config_opt_int(c, "patch_size_t", 1, &pt) || !svg_convert_config_opt_int(c, "ofs_embed_dim", 0, &ofs_dim)) return false;
    if (!rope || learned)
        return svg_err(false, "config: CogVideoX 1.5 uses rotary positions (use_rotary_positional_embeddings true, learned false)");
    if (ofs_dim && ofs_dim != time_dim)
        return svg_err(false, "config: ofs_embed_dim %lld must equal time_embed_dim %lld (the two embeddings are summed)", (long long)ofs_dim,
                       (long long)time_dim);
    for (const char *key : {"activation_fn", "timestep_activation_fn"}) {
        const auto a = c.find(key);
        const char *want = key[0] == 'a' ? "gelu-approximate" : "silu";
        if (a != c.end() && !(a->is_string() && a->get<std::string>() == want))
            return svg_err(false, "config: %s must be \"%s\"", key, want);
    }
    const int64_t D = heads * head_dim, ff = 4 * D;
    const svg_param_list l{out};
    out->clear();
    l.linear("patch_embed.proj", D, in_ch * pt * p * p);  // 1.5: a Linear with bias (patch_bias is 1.0's Conv2d)
    l.linear("patch_embed.text_proj", D, text_dim);
    l.linear("time_embedding.linear_1", time_dim, D);
    l.linear("time_embedding.linear_2", time_dim, time_dim);
    if (ofs_dim) {
        l.linear("ofs_embedding.linear_1", ofs_dim, ofs_dim);
        l.linear("ofs_embedding.linear_2", ofs_dim, ofs_dim);
    }
    for (int64_t i = 0; i < layers; i++) {
        const std::string b = "transformer_blocks." + std::to_string(i) + ".";
        for (const char *n : {"norm1", "norm2"}) {
            l.linear(b + n + ".linear", 6 * D, time_dim);
            if (affine) l.norm(b + n + ".norm", D);
        }
        for (const char *proj : {"to_q", "to_k", "to_v"}) l.linear(b + "attn1." + proj, D, D, attn_bias);
        l.norm(b + "attn1.norm_q", head_dim);
        l.norm(b + "attn1.norm_k", head_dim);
        l.linear(b + "attn1.to_out.0", D, D);
        l.linear(b + "ff.net.0.proj", ff, D);
        l.linear(b + "ff.net.2", D, ff);
    }
    if (affine) l.norm("norm_final", D);
    l.linear("norm_out.linear", 2 * D, time_dim);
    if (affine) l.norm("norm_out.norm", D);
    l.linear("proj_out", pt * p * p * out_ch, D);
    return true;
}

// ------------------------------------------------------------------ VAE

bool int_list(const json &c, const char *key, std::vector<int64_t> def, std::vector<int64_t> *out) {
    const auto it = c.find(key);
    if (it == c.end() || it->is_null()) {
        *out = std::move(def);
        return true;
    }
    if (!it->is_array() || it->empty()) return svg_err(false, "config: %s must be a list of positive integers", key);
    out->clear();
    for (const json &e : *it) {
        if (!e.is_number_integer() || e.get<int64_t>() < 1) return svg_err(false, "config: %s must be a list of positive integers", key);
        out->push_back(e.get<int64_t>());
    }
    return true;
}

bool block_types(const json &c, const char *key, const char *want, size_t n) {
    const auto it = c.find(key);
    if (it == c.end() || it->is_null()) return true;
    if (!it->is_array() || it->size() != n) return svg_err(false, "config: %s must list %zu blocks", key, n);
    for (const json &e : *it)
        if (!e.is_string() || e.get<std::string>() != want) return svg_err(false, "config: %s must all be %s", key, want);
    return true;
}

bool cogvideox_vae_parameters(const json &c, std::vector<svg_convert_param> *out) {
    if (!c.is_object()) return svg_err(false, "config: not a JSON object");
    // defaults: AutoencoderKLCogVideoX.__init__
    int64_t in_ch, out_ch, z, lpb, groups;
    std::vector<int64_t> ch;
    bool quant, post_quant;
    if (!svg_convert_config_opt_int(c, "in_channels", 3, &in_ch) || !svg_convert_config_opt_int(c, "out_channels", 3, &out_ch) ||
        !svg_convert_config_opt_int(c, "latent_channels", 16, &z) || !svg_convert_config_opt_int(c, "layers_per_block", 3, &lpb) ||
        !svg_convert_config_opt_int(c, "norm_num_groups", 32, &groups) || !int_list(c, "block_out_channels", {128, 256, 256, 512}, &ch) ||
        !svg_convert_config_opt_bool(c, "use_quant_conv", false, &quant) ||
        !svg_convert_config_opt_bool(c, "use_post_quant_conv", false, &post_quant) ||
        !block_types(c, "down_block_types", "CogVideoXDownBlock3D", ch.size()) ||
        !block_types(c, "up_block_types", "CogVideoXUpBlock3D", ch.size()))
        return false;
    if (quant || post_quant) return svg_err(false, "config: use_quant_conv / use_post_quant_conv are not supported (no release has them)");
    for (int64_t n : ch)
        if (n % groups) return svg_err(false, "config: block_out_channels %lld is not a multiple of norm_num_groups %lld", (long long)n, (long long)groups);
    const svg_param_list l{out};
    out->clear();
    auto conv3 = [&](const std::string &name, int64_t o, int64_t i, int64_t k) { l.conv(name + ".conv", {o, i, k, k, k}); };
    auto spatial_norm = [&](const std::string &name, int64_t n) {
        l.norm(name + ".norm_layer", n);
        conv3(name + ".conv_y", n, z, 1);
        conv3(name + ".conv_b", n, z, 1);
    };
    auto resnet = [&](const std::string &b, int64_t i, int64_t o, bool decoder) {
        if (decoder) spatial_norm(b + "norm1", i);
        else l.norm(b + "norm1", i);
        conv3(b + "conv1", o, i, 3);
        if (decoder) spatial_norm(b + "norm2", o);
        else l.norm(b + "norm2", o);
        conv3(b + "conv2", o, o, 3);
        if (i != o) l.conv(b + "conv_shortcut", {o, i, 1, 1, 1});
    };
    const size_t n = ch.size();
    conv3("encoder.conv_in", ch[0], in_ch, 3);
    for (size_t b = 0; b < n; b++) {
        const std::string p = "encoder.down_blocks." + std::to_string(b) + ".";
        for (int64_t r = 0; r < lpb; r++) resnet(p + "resnets." + std::to_string(r) + ".", r == 0 ? ch[b ? b - 1 : 0] : ch[b], ch[b], false);
        if (b + 1 < n) l.conv(p + "downsamplers.0.conv", {ch[b], ch[b], 3, 3});
    }
    for (int r = 0; r < 2; r++) resnet("encoder.mid_block.resnets." + std::to_string(r) + ".", ch[n - 1], ch[n - 1], false);
    l.norm("encoder.norm_out", ch[n - 1]);
    conv3("encoder.conv_out", 2 * z, ch[n - 1], 3);

    conv3("decoder.conv_in", ch[n - 1], z, 3);
    for (int r = 0; r < 2; r++) resnet("decoder.mid_block.resnets." + std::to_string(r) + ".", ch[n - 1], ch[n - 1], true);
    int64_t prev = ch[n - 1];
    for (size_t b = 0; b < n; b++) {
        const int64_t o = ch[n - 1 - b];
        const std::string p = "decoder.up_blocks." + std::to_string(b) + ".";
        for (int64_t r = 0; r <= lpb; r++) resnet(p + "resnets." + std::to_string(r) + ".", r == 0 ? prev : o, o, true);
        if (b + 1 < n) l.conv(p + "upsamplers.0.conv", {o, o, 3, 3});
        prev = o;
    }
    spatial_norm("decoder.norm_out", ch[0]);
    conv3("decoder.conv_out", out_ch, ch[0], 3);
    return true;
}

}  // namespace

const svg_convert_arch svg_convert_arch_cogvideox = {
    "CogVideoXTransformer3DModel", "cogvideox", "transformer", cogvideox_rename, need_config, cogvideox_parameters,
};
const svg_convert_arch svg_convert_arch_cogvideox_vae = {
    "AutoencoderKLCogVideoX", "cogvideox", "vae", cogvideox_vae_rename, need_config, cogvideox_vae_parameters,
};
