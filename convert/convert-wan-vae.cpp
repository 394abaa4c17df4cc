// Wan 2.1 VAE (diffusers AutoencoderKLWan): the original release's tensor
// names (Wan2.1_VAE.pth, ComfyUI's wan_2.1_vae.safetensors) → diffusers
// names, the parameter list of a config, and config inference from a
// single file's shapes. Every tensor is a convolution kernel, a bias or an
// RMS-norm gamma, so all stay f32.
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "convert/convert.h"
#include "src/svg-impl.h"

namespace {

using json = nlohmann::json;

// ------------------------------------------------------------------ names

std::vector<std::string> split(const std::string &s) {
    std::vector<std::string> parts;
    size_t b = 0;
    for (size_t e; (e = s.find('.', b)) != std::string::npos; b = e + 1) parts.push_back(s.substr(b, e - b));
    parts.push_back(s.substr(b));
    return parts;
}

std::string join(const std::vector<std::string> &parts, size_t from) {
    std::string s;
    for (size_t i = from; i < parts.size(); i++) s += (i > from ? "." : "") + parts[i];
    return s;
}

bool is_index(const std::string &s) { return !s.empty() && s.find_first_not_of("0123456789") == std::string::npos; }

// Inside a residual block the original keeps nn.Sequential indices:
// residual.{0,2,3,6} = norm1, conv1, norm2, conv2; shortcut = conv_shortcut.
std::string resblock_rest(const std::vector<std::string> &p, size_t from) {
    if (p.size() > from + 1 && p[from] == "residual") {
        static const char *const k_names[7] = {"norm1", nullptr, "conv1", "norm2", nullptr, nullptr, "conv2"};
        const std::string &i = p[from + 1];
        if (i.size() == 1 && i[0] >= '0' && i[0] <= '6' && k_names[i[0] - '0'])
            return std::string(k_names[i[0] - '0']) + "." + join(p, from + 2);
    }
    if (p.size() > from && p[from] == "shortcut") return "conv_shortcut." + join(p, from + 1);
    return join(p, from);
}

// The original name's diffusers name; false when no rule applies. The
// decoder's flat upsamples list holds, per stage, `period - 1` residual
// blocks and then the upsampler.
bool original_to_diffusers(const std::string &name, int64_t period, std::string *out) {
    const std::vector<std::string> p = split(name);
    if (p.size() < 2) return false;
    if (p[0] == "conv1" || p[0] == "conv2") {  // quant convs, named by position
        *out = (p[0] == "conv1" ? "quant_conv." : "post_quant_conv.") + join(p, 1);
        return true;
    }
    if ((p[0] != "encoder" && p[0] != "decoder") || p.size() < 3) return false;
    const std::string side = p[0] + ".";
    if (p[1] == "conv1") {
        *out = side + "conv_in." + join(p, 2);
    } else if (p[1] == "head" && (p[2] == "0" || p[2] == "2")) {
        *out = side + (p[2] == "0" ? "norm_out." : "conv_out.") + join(p, 3);
    } else if (p[1] == "middle" && (p[2] == "0" || p[2] == "1" || p[2] == "2")) {
        *out = side + (p[2] == "1" ? "mid_block.attentions.0." + join(p, 3)
                                   : "mid_block.resnets." + std::string(p[2] == "0" ? "0." : "1.") + resblock_rest(p, 3));
    } else if (p[0] == "encoder" && p[1] == "downsamples" && is_index(p[2])) {
        *out = side + "down_blocks." + p[2] + "." + resblock_rest(p, 3);
    } else if (p[0] == "decoder" && p[1] == "upsamples" && is_index(p[2])) {
        const int64_t k = std::stoll(p[2]), stage = k / period, r = k % period;
        *out = side + "up_blocks." + std::to_string(stage) +
               (r < period - 1 ? ".resnets." + std::to_string(r) + "." + resblock_rest(p, 3) : ".upsamplers.0." + join(p, 3));
    } else {
        return false;
    }
    return true;
}

// Module paths only the diffusers naming has.
bool is_diffusers_name(const std::string &name) {
    const std::vector<std::string> p = split(name);
    if (p[0] == "quant_conv" || p[0] == "post_quant_conv") return true;
    static const char *const k_modules[] = {"conv_in", "conv_out", "norm_out", "mid_block", "down_blocks", "up_blocks"};
    if (p.size() < 2 || (p[0] != "encoder" && p[0] != "decoder")) return false;
    for (const char *m : k_modules)
        if (p[1] == m) return true;
    return false;
}

bool wan_vae_rename(const std::vector<std::string> &names, std::vector<std::string> *out, std::string *scheme) {
    // the Wan VAE's norms are WanRMS_norm (".gamma") in both namings: that
    // tells it from the other video VAEs, which share diffusers' module names
    bool gamma = false;
    int64_t first_upsampler = -1, last_upsample = -1;
    for (const std::string &n : names) {
        gamma = gamma || (n.size() > 6 && n.compare(n.size() - 6, 6, ".gamma") == 0);
        const std::vector<std::string> p = split(n);
        if (p.size() > 3 && p[0] == "decoder" && p[1] == "upsamples" && is_index(p[2])) {
            const int64_t k = std::stoll(p[2]);
            last_upsample = std::max(last_upsample, k);
            if ((p[3] == "resample" || p[3] == "time_conv") && (first_upsampler < 0 || k < first_upsampler))
                first_upsampler = k;
        }
    }
    if (!gamma) return svg_err(false, "tensor names are not a Wan VAE's (no RMS-norm .gamma)");
    // a single stage has no upsampler: every entry is a residual block
    const int64_t period = first_upsampler >= 0 ? first_upsampler + 1 : last_upsample + 2;
    return svg_convert_rename_two_schemes(
        names, [period](const std::string &n, std::string *d) { return original_to_diffusers(n, period, d); }, is_diffusers_name,
        "Wan VAE", out, scheme);
}

// ------------------------------------------------------------------ config

// A positive integer key: `def` when absent or null.
bool get_int(const json &c, const char *key, int64_t def, int64_t *out) {
    const auto it = c.find(key);
    if (it == c.end() || it->is_null()) {
        *out = def;
        return true;
    }
    if (!it->is_number_integer() || it->get<int64_t>() < 1) return svg_err(false, "config: %s must be a positive integer", key);
    *out = it->get<int64_t>();
    return true;
}

// A list whose entries pass `ok`: `def` when absent.
template <typename V, typename Ok>
bool get_list(const json &c, const char *key, std::vector<V> def, Ok ok, const char *what, std::vector<V> *out) {
    const auto it = c.find(key);
    if (it == c.end()) {
        *out = std::move(def);
        return true;
    }
    if (!it->is_array()) return svg_err(false, "config: %s must be a list of %s", key, what);
    out->clear();
    for (const json &e : *it) {
        if (!ok(e)) return svg_err(false, "config: %s must be a list of %s", key, what);
        out->push_back(e.get<V>());
    }
    return true;
}

bool wan_vae_parameters(const json &c, std::vector<svg_convert_param> *out) {
    if (!c.is_object()) return svg_err(false, "config: not a JSON object");
    // defaults: AutoencoderKLWan.__init__
    int64_t base, dec_base, z, nrb, in_ch, out_ch;
    std::vector<int64_t> mult;
    std::vector<bool> tdown;
    std::vector<double> attn;
    const auto positive = [](const json &e) { return e.is_number_integer() && e.get<int64_t>() > 0; };
    if (!get_int(c, "base_dim", 96, &base) || !get_int(c, "decoder_base_dim", base, &dec_base) ||
        !get_int(c, "z_dim", 16, &z) || !get_int(c, "num_res_blocks", 2, &nrb) || !get_int(c, "in_channels", 3, &in_ch) ||
        !get_int(c, "out_channels", 3, &out_ch) ||
        !get_list<int64_t>(c, "dim_mult", {1, 2, 4, 4}, positive, "positive integers", &mult) ||
        !get_list<bool>(c, "temperal_downsample", {false, true, true}, [](const json &e) { return e.is_boolean(); },
                        "booleans", &tdown) ||
        !get_list<double>(c, "attn_scales", {}, [](const json &e) { return e.is_number(); }, "numbers", &attn))
        return false;
    const auto residual = c.find("is_residual");
    if ((residual != c.end() && *residual != false) || (c.contains("patch_size") && !c["patch_size"].is_null()))
        return svg_err(false, "config: the Wan 2.2 VAE (is_residual, patch_size) is not supported");
    if (!attn.empty()) return svg_err(false, "config: attn_scales is not supported (the Wan releases have none)");
    const size_t n = mult.size();
    if (n < 1 || tdown.size() + 1 != n)
        return svg_err(false, "config: temperal_downsample needs one entry fewer than dim_mult (%zu and %zu)", tdown.size(), n);

    std::vector<svg_convert_param> &p = *out;
    p.clear();
    auto conv = [&](const std::string &name, std::vector<int64_t> shape) {
        const int64_t n_out = shape[0];
        p.push_back({name + ".weight", std::move(shape), SVG_PARAM_CONV});
        p.push_back({name + ".bias", {n_out}, SVG_PARAM_BIAS});
    };
    // WanRMS_norm's gamma is [C, 1, 1] on images (attention), [C, 1, 1, 1] on videos
    auto norm = [&](const std::string &name, int64_t ch, bool images) {
        p.push_back({name + ".gamma", images ? std::vector<int64_t>{ch, 1, 1} : std::vector<int64_t>{ch, 1, 1, 1}, SVG_PARAM_NORM});
    };
    auto resblock = [&](const std::string &b, int64_t in, int64_t o) {
        norm(b + ".norm1", in, false);
        conv(b + ".conv1", {o, in, 3, 3, 3});
        norm(b + ".norm2", o, false);
        conv(b + ".conv2", {o, o, 3, 3, 3});
        if (in != o) conv(b + ".conv_shortcut", {o, in, 1, 1, 1});
    };
    auto mid_block = [&](const std::string &b, int64_t ch) {
        norm(b + ".attentions.0.norm", ch, true);
        conv(b + ".attentions.0.to_qkv", {3 * ch, ch, 1, 1});
        conv(b + ".attentions.0.proj", {ch, ch, 1, 1});
        resblock(b + ".resnets.0", ch, ch);
        resblock(b + ".resnets.1", ch, ch);
    };

    // encoder: stage i maps base·mult[i-1] (base for the first) to base·mult[i]
    conv("encoder.conv_in", {base, in_ch, 3, 3, 3});
    int64_t ch = base, k = 0;
    for (size_t i = 0; i < n; i++) {
        for (int64_t r = 0; r < nrb; r++, k++) {
            resblock("encoder.down_blocks." + std::to_string(k), ch, base * mult[i]);
            ch = base * mult[i];
        }
        if (i + 1 < n) {
            const std::string b = "encoder.down_blocks." + std::to_string(k++);
            conv(b + ".resample.1", {ch, ch, 3, 3});
            if (tdown[i]) conv(b + ".time_conv", {ch, ch, 3, 1, 1});
        }
    }
    mid_block("encoder.mid_block", ch);
    norm("encoder.norm_out", ch, false);
    conv("encoder.conv_out", {2 * z, ch, 3, 3, 3});
    conv("quant_conv", {2 * z, 2 * z, 1, 1, 1});
    conv("post_quant_conv", {z, z, 1, 1, 1});

    // decoder: the stages in reverse; each upsampler halves the channels
    ch = dec_base * mult[n - 1];
    conv("decoder.conv_in", {ch, z, 3, 3, 3});
    mid_block("decoder.mid_block", ch);
    for (size_t i = 0; i < n; i++) {
        const std::string b = "decoder.up_blocks." + std::to_string(i);
        const int64_t o = dec_base * mult[n - 1 - i];
        for (int64_t r = 0; r <= nrb; r++) {
            resblock(b + ".resnets." + std::to_string(r), ch, o);
            ch = o;
        }
        if (i + 1 < n) {
            conv(b + ".upsamplers.0.resample.1", {ch / 2, ch, 3, 3});
            if (tdown[n - 2 - i]) conv(b + ".upsamplers.0.time_conv", {2 * ch, ch, 3, 1, 1});
            ch /= 2;
        }
    }
    norm("decoder.norm_out", ch, false);
    conv("decoder.conv_out", {out_ch, ch, 3, 3, 3});
    return true;
}


bool wan_vae_infer_config(const svg_shape_map &s, json *config) {
    const std::vector<int64_t> *conv_in = nullptr, *post_quant = nullptr, *conv_out = nullptr;
    if (!svg_convert_need(s, "encoder.conv_in.weight", 5, &conv_in) || !svg_convert_need(s, "post_quant_conv.weight", 5, &post_quant) ||
        !svg_convert_need(s, "decoder.conv_out.weight", 5, &conv_out))
        return false;
    const int64_t base = (*conv_in)[0], z = (*post_quant)[0];
    // walk the encoder's flat down_blocks: residual blocks (conv1), then a
    // resampler (resample.1, time_conv when it also halves time) per stage
    std::vector<int64_t> mult;
    std::vector<bool> tdown;
    int64_t nrb = 0, in_stage = 0, ch = base;
    auto end_stage = [&]() {
        if (ch % base || !in_stage || (nrb && in_stage != nrb))
            return svg_err(false, "cannot infer the config: encoder stage %zu has %lld residual blocks of %lld channels",
                           mult.size(), (long long)in_stage, (long long)ch);
        nrb = in_stage;
        in_stage = 0;
        mult.push_back(ch / base);
        return true;
    };
    for (int64_t k = 0;; k++) {
        const std::string b = "encoder.down_blocks." + std::to_string(k);
        const std::vector<int64_t> *w = nullptr;
        if (s.count(b + ".conv1.weight")) {
            if (!svg_convert_need(s, b + ".conv1.weight", 5, &w)) return false;
            ch = (*w)[0];
            in_stage++;
        } else if (s.count(b + ".resample.1.weight")) {
            if (!end_stage()) return false;
            tdown.push_back(s.count(b + ".time_conv.weight") > 0);
        } else {
            break;
        }
    }
    if (!end_stage()) return false;
    // the Wan 2.1 normalization (AutoencoderKLWan's defaults): 16 channels only
    if (z != 16)
        return svg_err(false, "cannot infer latents_mean/latents_std for z_dim %lld; give the VAE's config.json (--config)",
                       (long long)z);
    const int64_t dec_base = (*conv_out)[1] / mult[0];
    json c = json::object();
    c["_class_name"] = "AutoencoderKLWan";
    c["base_dim"] = base;
    c["decoder_base_dim"] = dec_base == base ? json(nullptr) : json(dec_base);
    c["z_dim"] = z;
    c["dim_mult"] = mult;
    c["num_res_blocks"] = nrb;
    c["attn_scales"] = json::array();
    c["temperal_downsample"] = tdown;
    c["dropout"] = 0.0;
    c["latents_mean"] = {-0.7571, -0.7089, -0.9113, 0.1075, -0.1745, 0.9653, -0.1517, 1.5508,
                         0.4134,  -0.0715, 0.5517,  -0.3632, -0.1922, -0.9497, 0.2503, -0.2921};
    c["latents_std"] = {2.8184, 1.4541, 2.3275, 2.6558, 1.2196, 1.7708, 2.6052, 2.0743,
                        3.2687, 2.1526, 2.8652, 1.5579, 1.6382, 1.1253, 2.8251, 1.916};
    c["is_residual"] = false;
    c["in_channels"] = (*conv_in)[1];
    c["out_channels"] = (*conv_out)[0];
    c["patch_size"] = nullptr;
    c["scale_factor_spatial"] = (int64_t)1 << (mult.size() - 1);
    int64_t temporal = 1;
    for (bool t : tdown) temporal *= t ? 2 : 1;
    c["scale_factor_temporal"] = temporal;
    *config = std::move(c);
    return true;
}

}  // namespace

const svg_convert_arch svg_convert_arch_wan_vae = {
    "AutoencoderKLWan", "wan", "vae", wan_vae_rename, wan_vae_infer_config, wan_vae_parameters,
};
