// HunyuanVideo VAE (diffusers AutoencoderKLHunyuanVideo): the parameter list
// of a config, and config inference from a single file's shapes. The
// original release's VAE (and ComfyUI's hunyuan_video_vae_bf16.safetensors,
// the same state dict) already uses diffusers' module names: diffusers' own
// conversion script maps none (VAE_KEYS_RENAME_DICT is empty), so names
// pass through and a lone .safetensors converts with its config inferred.
#include <cmath>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "convert/convert.h"
#include "src/svg-impl.h"

namespace {

using json = nlohmann::json;

bool hunyuan_vae_rename(const std::vector<std::string> &names, std::vector<std::string> *out, std::string *scheme) {
    bool found = false;
    for (const std::string &n : names) found = found || n == "decoder.up_blocks.0.upsamplers.0.conv.conv.weight";
    if (!found) return svg_err(false, "tensor names are not a HunyuanVideo VAE's (no decoder.up_blocks.0.upsamplers.0.conv.conv)");
    *out = names;
    *scheme = "diffusers";
    return true;
}

// Whether block i of n resizes, as HunyuanVideoEncoder3D / Decoder3D decide
// with temporal_compression_ratio 4 (the only one the decoder takes): space
// in the first log2(spatial) blocks, time in the two before the last.
bool resizes(size_t i, size_t n, int64_t spatial) {
    return (int64_t)i < (int64_t)std::log2((double)spatial) || (i + 3 >= n && i + 1 < n);
}

bool hunyuan_vae_parameters(const json &c, std::vector<svg_convert_param> *out) {
    if (!c.is_object()) return svg_err(false, "config: not a JSON object");
    // defaults: AutoencoderKLHunyuanVideo.__init__
    int64_t in_ch, out_ch, z, lpb, groups, spatial, temporal;
    bool attention;
    if (!svg_convert_config_opt_int(c, "in_channels", 3, &in_ch) || !svg_convert_config_opt_int(c, "out_channels", 3, &out_ch) ||
        !svg_convert_config_opt_int(c, "latent_channels", 16, &z) || !svg_convert_config_opt_int(c, "layers_per_block", 2, &lpb) ||
        !svg_convert_config_opt_int(c, "norm_num_groups", 32, &groups) ||
        !svg_convert_config_opt_int(c, "spatial_compression_ratio", 8, &spatial) ||
        !svg_convert_config_opt_int(c, "temporal_compression_ratio", 4, &temporal) ||
        !svg_convert_config_opt_bool(c, "mid_block_add_attention", true, &attention))
        return false;
    std::vector<int64_t> ch = {128, 256, 512, 512};
    const auto b = c.find("block_out_channels");
    if (b != c.end() && !b->is_null()) {
        if (!b->is_array() || b->empty()) return svg_err(false, "config: block_out_channels must be a list of positive integers");
        ch.clear();
        for (const json &e : *b) {
            if (!e.is_number_integer() || e.get<int64_t>() < 1) return svg_err(false, "config: block_out_channels must be a list of positive integers");
            ch.push_back(e.get<int64_t>());
        }
    }
    const size_t n = ch.size();
    for (const char *key : {"down_block_types", "up_block_types"}) {
        const auto t = c.find(key);
        const std::string want = key[0] == 'd' ? "HunyuanVideoDownBlock3D" : "HunyuanVideoUpBlock3D";
        if (t == c.end() || t->is_null()) continue;
        bool ok = t->is_array() && t->size() == n;
        for (size_t i = 0; ok && i < n; i++) ok = (*t)[i].is_string() && (*t)[i].get<std::string>() == want;
        if (!ok) return svg_err(false, "config: %s must be %zu x %s", key, n, want.c_str());
    }
    const auto act = c.find("act_fn");
    if (act != c.end() && !(act->is_string() && act->get<std::string>() == "silu")) return svg_err(false, "config: act_fn must be \"silu\"");
    if (temporal != 4) return svg_err(false, "config: temporal_compression_ratio must be 4, the only one the decoder takes (got %lld)", (long long)temporal);
    if (spatial < 2 || (spatial & (spatial - 1))) return svg_err(false, "config: spatial_compression_ratio must be a power of two");
    for (int64_t k : ch)
        if (k % groups) return svg_err(false, "config: block_out_channels %lld is not a multiple of norm_num_groups %lld", (long long)k, (long long)groups);

    const svg_param_list l{out};
    out->clear();
    auto conv3 = [&](const std::string &name, int64_t o, int64_t i, int64_t k) { l.conv(name + ".conv", {o, i, k, k, k}); };
    auto resnet = [&](const std::string &p, int64_t i, int64_t o) {
        l.norm(p + ".norm1", i);
        conv3(p + ".conv1", o, i, 3);
        l.norm(p + ".norm2", o);
        conv3(p + ".conv2", o, o, 3);
        if (i != o) conv3(p + ".conv_shortcut", o, i, 1);
    };
    auto mid_block = [&](const std::string &p, int64_t k) {
        resnet(p + ".resnets.0", k, k);
        if (attention) {
            const std::string a = p + ".attentions.0";
            l.norm(a + ".group_norm", k);
            for (const char *proj : {".to_q", ".to_k", ".to_v", ".to_out.0"}) l.linear(a + proj, k, k);
        }
        resnet(p + ".resnets.1", k, k);
    };
    conv3("encoder.conv_in", ch[0], in_ch, 3);
    for (size_t i = 0; i < n; i++) {
        const std::string p = "encoder.down_blocks." + std::to_string(i);
        for (int64_t r = 0; r < lpb; r++) resnet(p + ".resnets." + std::to_string(r), r == 0 ? ch[i ? i - 1 : 0] : ch[i], ch[i]);
        if (resizes(i, n, spatial)) conv3(p + ".downsamplers.0.conv", ch[i], ch[i], 3);
    }
    mid_block("encoder.mid_block", ch[n - 1]);
    l.norm("encoder.conv_norm_out", ch[n - 1]);
    conv3("encoder.conv_out", 2 * z, ch[n - 1], 3);
    l.conv("quant_conv", {2 * z, 2 * z, 1, 1, 1});
    l.conv("post_quant_conv", {z, z, 1, 1, 1});

    conv3("decoder.conv_in", ch[n - 1], z, 3);
    mid_block("decoder.mid_block", ch[n - 1]);
    int64_t prev = ch[n - 1];
    for (size_t i = 0; i < n; i++) {
        const int64_t o = ch[n - 1 - i];
        const std::string p = "decoder.up_blocks." + std::to_string(i);
        for (int64_t r = 0; r <= lpb; r++) resnet(p + ".resnets." + std::to_string(r), r == 0 ? prev : o, o);
        if (resizes(i, n, spatial)) conv3(p + ".upsamplers.0.conv", o, o, 3);
        prev = o;
    }
    l.norm("decoder.conv_norm_out", ch[0]);
    conv3("decoder.conv_out", out_ch, ch[0], 3);
    return true;
}

// block_out_channels from the encoder's stages, layers_per_block from its
// first stage, attention from its presence; norm_num_groups and the two
// compression ratios cannot be seen in shapes: the release's (32, 8, 4).
bool hunyuan_vae_infer_config(const svg_shape_map &s, json *config) {
    const std::vector<int64_t> *conv_in = nullptr, *post_quant = nullptr, *conv_out = nullptr;
    if (!svg_convert_need(s, "encoder.conv_in.conv.weight", 5, &conv_in) || !svg_convert_need(s, "post_quant_conv.weight", 5, &post_quant) ||
        !svg_convert_need(s, "decoder.conv_out.conv.weight", 5, &conv_out))
        return false;
    std::vector<int64_t> ch;
    for (size_t i = 0;; i++) {
        const std::string p = "encoder.down_blocks." + std::to_string(i) + ".resnets.0.conv1.conv.weight";
        const std::vector<int64_t> *w = nullptr;
        if (!s.count(p)) break;
        if (!svg_convert_need(s, p, 5, &w)) return false;
        ch.push_back((*w)[0]);
    }
    int64_t lpb = 0;
    while (s.count("encoder.down_blocks.0.resnets." + std::to_string(lpb) + ".conv1.conv.weight")) lpb++;
    if (ch.empty()) return svg_err(false, "cannot infer the config: no encoder.down_blocks.0.resnets.0.conv1.conv.weight");
    json c = json::object();
    c["_class_name"] = "AutoencoderKLHunyuanVideo";
    c["in_channels"] = (*conv_in)[1];
    c["out_channels"] = (*conv_out)[0];
    c["latent_channels"] = (*post_quant)[0];
    c["block_out_channels"] = ch;
    c["layers_per_block"] = lpb;
    c["down_block_types"] = std::vector<std::string>(ch.size(), "HunyuanVideoDownBlock3D");
    c["up_block_types"] = std::vector<std::string>(ch.size(), "HunyuanVideoUpBlock3D");
    c["act_fn"] = "silu";
    c["norm_num_groups"] = 32;
    c["scaling_factor"] = 0.476986;
    c["spatial_compression_ratio"] = 8;
    c["temporal_compression_ratio"] = 4;
    c["mid_block_add_attention"] = s.count("decoder.mid_block.attentions.0.to_q.weight") > 0;
    *config = std::move(c);
    return true;
}

}  // namespace

// extern: declared where the table is (convert.cpp), not in convert.h
const svg_convert_arch svg_convert_arch_hunyuan_vae = {
    "AutoencoderKLHunyuanVideo", "hunyuan", "vae", hunyuan_vae_rename, hunyuan_vae_infer_config, hunyuan_vae_parameters,
};
