// Component dispatch for svg_forward_component (models/forward.h).
#include "models/forward.h"

#include <algorithm>
#include <cstring>

#include "models/clip-text.h"
#include "models/clip-vision.h"
#include "models/cogvideox-pipeline.h"
#include "models/cogvideox.h"
#include "models/hunyuan-pipeline.h"
#include "models/hunyuan-vae.h"
#include "models/hunyuan.h"
#include "models/llama.h"
#include "models/umt5.h"
#include "models/wan-pipeline.h"
#include "models/wan-vae.h"
#include "models/wan.h"
#include "src/svg-impl.h"
#include "src/bpe.h"
#include "src/tokenizer.h"

namespace {

// A named tensor of the inputs file as f32 values and its shape.
bool read_f32(const svg_safetensors *st, const char *name, std::vector<int64_t> *shape, std::vector<float> *values) {
    const int64_t i = svg_safetensors_find(st, name);
    if (i < 0) return svg_err(false, "input '%s' not found in the inputs file", name);
    int64_t ne[SVG_MAX_DIMS];
    svg_safetensors_shape(st, i, ne);
    shape->assign(ne, ne + svg_safetensors_n_dims(st, i));
    values->resize((size_t)svg_safetensors_nelements(st, i));
    return svg_safetensors_read_f32(st, i, values->data(), (int64_t)values->size());
}

bool has(const svg_safetensors *st, const char *name) { return svg_safetensors_find(st, name) >= 0; }

std::string shape_str(const std::vector<int64_t> &s) {
    std::string r = "[";
    for (size_t i = 0; i < s.size(); i++) r += (i ? ", " : "") + std::to_string(s[i]);
    return r + "]";
}

// The same as a graph input; NULL (no error) when absent and optional.
svg_tensor *read_input(svg_context *ctx, const svg_safetensors *st, const char *name, bool optional, svg_host_inputs *host) {
    if (optional && !has(st, name)) return nullptr;
    std::vector<int64_t> shape;
    std::vector<float> v;
    if (!read_f32(st, name, &shape, &v)) return nullptr;
    return host->add(ctx, (int)shape.size(), shape.data(), std::move(v), name);
}

svg_forward_tensor &add_output(svg_forward_result *out, const std::string &name) {
    out->outputs.push_back(svg_forward_tensor{name, {}, {}});
    return out->outputs.back();
}

// Compute y (NULL: an earlier step failed) into the output `name`, then free the context.
bool compute(svg_backend *be, svg_context *ctx, svg_tensor *y, const svg_host_inputs &host, const char *name,
             svg_forward_result *out) {
    svg_gallocr *ga = svg_gallocr_new(be);
    std::vector<float> values;
    const bool ok = y && svg_compute_to_host(be, ga, ctx, y, host, &values);
    if (ok) {
        svg_forward_tensor &t = add_output(out, name);
        t.shape.assign(y->ne, y->ne + y->n_dims);
        t.values = std::move(values);
    }
    svg_gallocr_free(ga);
    svg_context_free(ctx);
    return ok;
}

// transformer: hidden_states, timestep, encoder_hidden_states (+ image tokens) → out
bool forward_transformer(const svg_gguf *f, svg_backend *be, enum svg_type act, const svg_safetensors *inputs,
                         svg_forward_result *out) {
    const char *arch = svg_gguf_get_string(f, "general.architecture");
    if (arch && strcmp(arch, "cogvideox") == 0) {
        cogvideox_transformer m;
        if (!cogvideox_transformer_load(f, be, &m)) return false;
        svg_context *ctx = svg_context_new(true);
        svg_host_inputs host;
        svg_tensor *x = read_input(ctx, inputs, "hidden_states", false, &host);
        svg_tensor *t = x ? read_input(ctx, inputs, "timestep", false, &host) : nullptr;
        svg_tensor *text = t ? read_input(ctx, inputs, "encoder_hidden_states", false, &host) : nullptr;
        svg_tensor *ofs = text ? read_input(ctx, inputs, "ofs", true, &host) : nullptr;
        return compute(be, ctx, text ? cogvideox_transformer_forward(ctx, m, x, t, text, ofs, act, &host) : nullptr, host, "out", out);
    }
    if (arch && strcmp(arch, "hunyuan") == 0) {
        hunyuan_transformer m;
        if (!hunyuan_transformer_load(f, be, &m)) return false;
        std::vector<int64_t> mask_shape;
        std::vector<float> mask;
        if (!read_f32(inputs, "encoder_attention_mask", &mask_shape, &mask)) return false;
        svg_context *ctx = svg_context_new(true);
        svg_host_inputs host;
        svg_tensor *x = read_input(ctx, inputs, "hidden_states", false, &host);
        svg_tensor *t = x ? read_input(ctx, inputs, "timestep", false, &host) : nullptr;
        svg_tensor *text = t ? read_input(ctx, inputs, "encoder_hidden_states", false, &host) : nullptr;
        svg_tensor *pooled = text ? read_input(ctx, inputs, "pooled_projections", false, &host) : nullptr;
        svg_tensor *g = pooled ? read_input(ctx, inputs, "guidance", !m.guidance_embeds, &host) : nullptr;
        if (text && mask_shape != std::vector<int64_t>{text->ne[0], text->ne[1]}) {
            svg_context_free(ctx);
            return svg_err(false, "encoder_attention_mask %s must be [B, L] of encoder_hidden_states", shape_str(mask_shape).c_str());
        }
        svg_tensor *y = pooled && (g || !m.guidance_embeds) ? hunyuan_transformer_forward(ctx, m, x, t, text, mask, pooled, g, act, &host) : nullptr;
        return compute(be, ctx, y, host, "out", out);
    }
    if (!arch || strcmp(arch, "wan") != 0)
        return svg_err(false, "no transformer forward for architecture '%s'", arch ? arch : "?");
    wan_transformer m;
    if (!wan_transformer_load(f, be, &m)) return false;
    svg_context *ctx = svg_context_new(true);
    svg_host_inputs host;
    svg_tensor *x = read_input(ctx, inputs, "hidden_states", false, &host);
    svg_tensor *t = x ? read_input(ctx, inputs, "timestep", false, &host) : nullptr;
    svg_tensor *text = t ? read_input(ctx, inputs, "encoder_hidden_states", false, &host) : nullptr;
    svg_tensor *image = text ? read_input(ctx, inputs, "encoder_hidden_states_image", true, &host) : nullptr;
    return compute(be, ctx, text ? wan_transformer_forward(ctx, m, x, t, text, image, act, &host) : nullptr, host, "out", out);
}

// Compute the last of `outputs` (name, tensor) and read every one: the
// others are marked as outputs so the planner keeps them. Frees the context.
bool compute_all(svg_backend *be, svg_context *ctx, const std::vector<std::pair<std::string, svg_tensor *>> &outputs,
                 const svg_host_inputs &host, svg_forward_result *out) {
    for (const auto &o : outputs)
        if (!o.second) {
            svg_context_free(ctx);
            return false;
        }
    for (const auto &o : outputs) svg_set_output(o.second);
    svg_gallocr *ga = svg_gallocr_new(be);
    std::vector<float> last;
    bool ok = svg_compute_to_host(be, ga, ctx, outputs.back().second, host, &last);
    for (size_t i = 0; ok && i < outputs.size(); i++) {
        const svg_tensor *y = outputs[i].second;
        svg_forward_tensor &t = add_output(out, outputs[i].first);
        t.shape.assign(y->ne, y->ne + y->n_dims);
        if (i + 1 == outputs.size()) {
            t.values = std::move(last);
        } else {
            t.values.resize((size_t)svg_nelements(y));
            ok = svg_tensor_get_f32(y, t.values.data(), (int64_t)t.values.size());
        }
    }
    svg_gallocr_free(ga);
    svg_context_free(ctx);
    return ok;
}

// text_encoder, text_encoder_2: input_ids [B, L] (+ attention_mask) →
//   umT5 / T5: last_hidden_state
//   Llama: hidden_states.0 … hidden_states.<layers> (HunyuanVideo takes the third from last)
//   CLIP text: last_hidden_state, pooler_output (text_embeds with a projection)
bool forward_text_encoder(const svg_gguf *f, svg_backend *be, const std::string &component, const svg_safetensors *inputs,
                          svg_forward_result *out) {
    const int64_t i = svg_safetensors_find(inputs, "input_ids");
    if (i < 0) return svg_err(false, "input 'input_ids' not found in the inputs file");
    if (svg_safetensors_n_dims(inputs, i) != 2) return svg_err(false, "input_ids must be [B, L]");
    int64_t ne[2];
    svg_safetensors_shape(inputs, i, ne);
    std::vector<int64_t> ids64((size_t)svg_safetensors_nelements(inputs, i));
    if (!svg_safetensors_read_i64(inputs, i, ids64.data(), (int64_t)ids64.size())) return false;
    auto to_ids = [&](int64_t vocab, std::vector<int32_t> *ids) {
        for (int64_t v : ids64) {
            if (v < 0 || v >= vocab)
                return svg_err(false, "input_ids: token id %lld outside the vocabulary of %lld", (long long)v, (long long)vocab);
            ids->push_back((int32_t)v);
        }
        return true;
    };
    const char *cls_c = svg_gguf_get_string(f, ("svg." + component + ".class").c_str());
    const std::string cls = cls_c ? cls_c : "";
    std::vector<int32_t> ids;
    svg_context *ctx = nullptr;
    svg_host_inputs host;
    auto read_mask = [&]() { return has(inputs, "attention_mask") ? read_input(ctx, inputs, "attention_mask", false, &host) : nullptr; };
    if (cls == "CLIPTextModel" || cls == "CLIPTextModelWithProjection") {
        clip_text m;
        if (!clip_text_load(f, component.c_str(), be, &m) || !to_ids(m.vocab, &ids)) return false;
        ctx = svg_context_new(true);
        const clip_text_output y = clip_text_forward(ctx, m, ids.data(), ne[0], ne[1], read_mask(), &host);
        return compute_all(be, ctx, {{"last_hidden_state", y.last_hidden_state}, {m.projection_dim ? "text_embeds" : "pooler_output", y.pooled}},
                           host, out);
    }
    if (cls == "LlamaModel" || cls == "LlamaForCausalLM") {
        llama_model m;
        if (component != "text_encoder") return svg_err(false, "%s: a Llama text encoder is read from text_encoder", component.c_str());
        if (!llama_load(f, be, &m) || !to_ids(m.vocab, &ids)) return false;
        ctx = svg_context_new(true);
        std::vector<svg_tensor *> states;
        if (!llama_forward(ctx, m, host.add_i32(ctx, 2, ne, ids, "input_ids"), read_mask(), m.layers, &host, &states)) {
            svg_context_free(ctx);
            return false;
        }
        std::vector<std::pair<std::string, svg_tensor *>> outputs;
        for (size_t k = 0; k < states.size(); k++) outputs.emplace_back("hidden_states." + std::to_string(k), states[k]);
        return compute_all(be, ctx, outputs, host, out);
    }
    if (component != "text_encoder") return svg_err(false, "%s: no text encoder forward for class '%s'", component.c_str(), cls.c_str());
    umt5_encoder m;
    if (!umt5_load(f, be, &m) || !to_ids(m.vocab, &ids)) return false;
    ctx = svg_context_new(true);
    svg_tensor *idt = host.add_i32(ctx, 2, ne, ids, "input_ids");
    svg_tensor *mask = read_mask();
    return compute(be, ctx, idt ? umt5_forward(ctx, m, idt, mask, &host) : nullptr, host, "last_hidden_state", out);
}

// image_encoder: pixel_values [B, 3, S, S] → penultimate_hidden_states
bool forward_image_encoder(const svg_gguf *f, svg_backend *be, const svg_safetensors *inputs, svg_forward_result *out) {
    if (!has(inputs, "pixel_values")) return svg_err(false, "input 'pixel_values' not found in the inputs file");
    clip_vision m;
    if (!clip_vision_load(f, be, &m)) return false;
    svg_context *ctx = svg_context_new(true);
    svg_host_inputs host;
    svg_tensor *px = read_input(ctx, inputs, "pixel_values", false, &host);
    return compute(be, ctx, px ? clip_vision_forward(ctx, m, px, &host) : nullptr, host, "penultimate_hidden_states", out);
}

// vae: z → video (decode), video → mean, logvar (encode); mode "" picks by the input present
bool forward_vae(const svg_gguf *f, svg_backend *be, const std::string &mode, const svg_safetensors *inputs,
                 svg_forward_result *out) {
    bool decode = mode == "decode";
    if (mode.empty()) {
        decode = has(inputs, "z");
        if (!decode && !has(inputs, "video")) return svg_err(false, "vae: inputs need 'z' (decode) or 'video' (encode)");
    }
    const char *in_name = decode ? "z" : "video";
    if (!has(inputs, in_name)) return svg_err(false, "input '%s' not found in the inputs file", in_name);
    vae_tensor x, y, logvar;
    if (!read_f32(inputs, in_name, &x.shape, &x.data)) return false;
    const char *cls = svg_gguf_get_string(f, "svg.vae.class");
    if (cls && strcmp(cls, "AutoencoderKLCogVideoX") == 0) {
        cogvideox_vae m;
        if (!cogvideox_vae_load(f, be, &m) ||
            !(decode ? cogvideox_vae_decode(m, be, x, false, &y) : cogvideox_vae_encode(m, be, x, &y, &logvar)))
            return false;
    } else if (cls && strcmp(cls, "AutoencoderKLHunyuanVideo") == 0) {
        // the decoder only; tiled as HunyuanVideo pipelines decode (the same
        // as untiled for latents within one 256-pixel tile)
        if (!decode) return svg_err(false, "vae: the HunyuanVideo VAE decodes only (no encoder)");
        hunyuan_vae m;
        if (!hunyuan_vae_load(f, be, &m) || !hunyuan_vae_decode(m, be, x, true, &y)) return false;
    } else {
        wan_vae m;
        if (!wan_vae_load(f, be, &m) || !(decode ? wan_vae_decode(m, be, x, &y) : wan_vae_encode(m, be, x, &y, &logvar))) return false;
    }
    svg_forward_tensor &a = add_output(out, decode ? "video" : "mean");
    a.shape = std::move(y.shape);
    a.values = std::move(y.data);
    if (!decode) {
        svg_forward_tensor &b = add_output(out, "logvar");
        b.shape = std::move(logvar.shape);
        b.values = std::move(logvar.data);
    }
    return true;
}

// The pipelines' video [1, 3, F, H, W] in [-1, 1] as their output: (x + 1) / 2
// clamped to [0, 1], frames first ([1, F, 3, H, W]).
void add_video(const vae_tensor &video, svg_forward_result *out) {
    const int64_t F = video.shape[2], H = video.shape[3], W = video.shape[4];
    svg_forward_tensor &v = add_output(out, "video");
    v.shape = {1, F, 3, H, W};
    v.values.resize(video.data.size());
    for (int64_t c = 0; c < 3; c++)
        for (int64_t t = 0; t < F; t++)
            for (int64_t p = 0; p < H * W; p++)
                v.values[(size_t)((t * 3 + c) * H * W + p)] =
                    std::min(1.f, std::max(0.f, video.data[(size_t)((c * F + t) * H * W + p)] * 0.5f + 0.5f));
}

void add_timesteps(const svg_scheduler &s, svg_forward_result *out) {
    svg_forward_tensor &t = add_output(out, "timesteps");
    t.shape = {(int64_t)s.timesteps.size()};
    for (double v : s.timesteps) t.values.push_back((float)v);
}

// CogVideoX pipeline: the recorded embeddings and the first transformer
// call's input (row 1 of transformer_call0_hidden_states: the latents, and
// for I2V the image latents in its upper channels) through the DDIM / DPM
// loop, then CogVideoXPipeline's decode.
bool forward_cogvideox_pipeline(const svg_gguf *f, svg_backend *be, const svg_forward_options &opt, const svg_safetensors *inputs,
                                svg_forward_result *out) {
    cogvideox_denoise_inputs in;
    std::vector<int64_t> hs;
    std::vector<float> call0;
    if (!read_f32(inputs, "transformer_call0_hidden_states", &hs, &call0)) return false;
    if (!read_f32(inputs, "prompt_embeds", &in.text_shape, &in.cond)) return false;
    if (opt.cfg > 1.0f) {
        std::vector<int64_t> ushape;
        if (!read_f32(inputs, "negative_prompt_embeds", &ushape, &in.uncond)) return false;
        if (ushape != in.text_shape) return svg_err(false, "negative_prompt_embeds and prompt_embeds differ in shape");
    }
    cogvideox_denoise_options d;
    d.steps = opt.steps;
    d.guidance = opt.cfg;
    d.act = opt.act;
    if (!cogvideox_scheduler_from_file(f, &d.sampler, &d.schedule)) return false;
    if (!opt.sampler.empty() && opt.sampler != "ddim" && opt.sampler != "dpm")
        return svg_err(false, "CogVideoX samplers are ddim and dpm, not '%s'", opt.sampler.c_str());
    if (!opt.sampler.empty()) d.sampler = opt.sampler == "dpm" ? svg_ddpm_sampler::DPM : svg_ddpm_sampler::DDIM;
    std::vector<svg_forward_tensor> steps;
    {
        cogvideox_transformer m;
        if (!cogvideox_transformer_load(f, be, &m)) return false;
        if (hs.size() != 5 || hs[0] < 1 || hs[2] != m.in_channels)
            return svg_err(false, "transformer_call0_hidden_states %s must be [B, F, %lld, h, w]", shape_str(hs).c_str(), (long long)m.in_channels);
        // the last row: the conditional half (the same latents as the first)
        const size_t row = call0.size() / (size_t)hs[0], plane = (size_t)(hs[3] * hs[4]);
        const int64_t C = m.out_channels;
        in.latent_shape = {1, hs[1], C, hs[3], hs[4]};
        for (int64_t fr = 0; fr < hs[1]; fr++) {
            const float *src = call0.data() + (call0.size() - row) + (size_t)(fr * hs[2]) * plane;
            in.latents.insert(in.latents.end(), src, src + C * plane);
            if (hs[2] > C) in.image_latents.insert(in.image_latents.end(), src + C * plane, src + hs[2] * plane);
        }
        d.progress = [&](int done, int) { steps.push_back(svg_forward_tensor{"latents_step" + std::to_string(done - 1), in.latent_shape, in.latents}); };
        if (!cogvideox_denoise(m, be, in, d)) return false;
    }
    svg_ddpm_sampler sched;
    if (sched.init(d.sampler, d.steps, d.schedule)) add_timesteps(sched, out);
    for (svg_forward_tensor &s : steps) out->outputs.push_back(std::move(s));
    cogvideox_vae vae;
    vae_tensor video;
    if (!cogvideox_vae_load(f, be, &vae) || !cogvideox_decode_latents(vae, be, in.latents, in.latent_shape, 0, false, &video)) return false;
    add_video(video, out);
    return true;
}

// HunyuanVideo pipeline: the recorded Llama embeddings with their mask, the
// pooled CLIP output and the initial latents through the Euler loop with
// embedded guidance (opt.cfg, the reference's guidance_scale), then the decode.
bool forward_hunyuan_pipeline(const svg_gguf *f, svg_backend *be, const svg_forward_options &opt, const svg_safetensors *inputs,
                              svg_forward_result *out) {
    hunyuan_denoise_inputs in;
    std::vector<int64_t> es, ms, ps;
    if (!read_f32(inputs, "latents_init", &in.latent_shape, &in.latents) || !read_f32(inputs, "prompt_embeds", &es, &in.cond.embeds) ||
        !read_f32(inputs, "prompt_attention_mask", &ms, &in.cond.mask) || !read_f32(inputs, "pooled_prompt_embeds", &ps, &in.cond.pooled))
        return false;
    if (es.size() != 3 || es[0] != 1 || ms != std::vector<int64_t>{1, es[1]} || ps.size() != 2 || ps[0] != 1)
        return svg_err(false, "prompt_embeds %s, prompt_attention_mask %s, pooled_prompt_embeds %s must be [1, L, D], [1, L], [1, P]",
                       shape_str(es).c_str(), shape_str(ms).c_str(), shape_str(ps).c_str());
    in.cond.len = es[1];
    hunyuan_denoise_options d;
    d.steps = opt.steps;
    d.embedded_guidance = opt.cfg;
    d.act = opt.act;
    d.shift = opt.shift;
    if (d.shift <= 0) {
        d.shift = 7.0;
        svg_gguf_get_float(f, "svg.scheduler.shift", &d.shift);
    }
    if (!opt.sampler.empty() && opt.sampler != "euler") return svg_err(false, "the HunyuanVideo sampler is euler, not '%s'", opt.sampler.c_str());
    std::vector<svg_forward_tensor> steps;
    d.progress = [&](int done, int) { steps.push_back(svg_forward_tensor{"latents_step" + std::to_string(done - 1), in.latent_shape, in.latents}); };
    {
        hunyuan_transformer m;
        if (!hunyuan_transformer_load(f, be, &m) || !hunyuan_denoise(m, be, in, d)) return false;
    }
    svg_flow_sampler sched;
    if (sched.init_euler_to_zero(d.steps, d.shift)) add_timesteps(sched, out);
    for (svg_forward_tensor &s : steps) out->outputs.push_back(std::move(s));
    // decode as HunyuanVideoPipeline: latents / scaling factor, the VAE in tiles
    hunyuan_vae vae;
    vae_tensor video;
    if (!hunyuan_vae_load(f, be, &vae) || !hunyuan_decode_latents(vae, be, in.latents, in.latent_shape, &video)) return false;
    add_video(video, out);
    return true;
}

// pipeline: the Wan denoising loop from recorded embeddings and noise, then
// the VAE decode and WanPipeline's post-processing.
bool forward_pipeline(const svg_gguf *f, svg_backend *be, const svg_forward_options &opt, const svg_safetensors *inputs,
                      svg_forward_result *out) {
    wan_denoise_inputs in;
    if (!read_f32(inputs, "latents_init", &in.latent_shape, &in.latents)) return false;
    if (in.latent_shape.size() != 5 || in.latent_shape[0] != 1)
        return svg_err(false, "latents_init must be [1, C, F, H, W], got %s", shape_str(in.latent_shape).c_str());
    if (!read_f32(inputs, "prompt_embeds", &in.text_shape, &in.cond)) return false;
    if (opt.cfg > 1.0f) {
        std::vector<int64_t> ushape;
        if (!has(inputs, "negative_prompt_embeds"))
            return svg_err(false, "input 'negative_prompt_embeds' not found in the inputs file (needed with --cfg %g > 1)", opt.cfg);
        if (!read_f32(inputs, "negative_prompt_embeds", &ushape, &in.uncond)) return false;
        if (ushape != in.text_shape)
            return svg_err(false, "negative_prompt_embeds %s and prompt_embeds %s differ in shape", shape_str(ushape).c_str(),
                           shape_str(in.text_shape).c_str());
    }
    // the video size the latents stand for
    wan_vae vae;
    if (!wan_vae_load(f, be, &vae)) return false;
    const int64_t sf = vae.spatial_factor > 0 ? vae.spatial_factor : 8;
    const int64_t lf = in.latent_shape[2], lh = in.latent_shape[3], lw = in.latent_shape[4];
    const int frames = (int)((lf - 1) * 4 + 1), height = (int)(lh * sf), width = (int)(lw * sf);
    if ((opt.frames && opt.frames != frames) || (opt.height && opt.height != height) || (opt.width && opt.width != width))
        return svg_err(false, "--width/--height/--frames %dx%dx%d do not match latents_init %s (a %dx%dx%d video)", opt.width,
                       opt.height, opt.frames, shape_str(in.latent_shape).c_str(), width, height, frames);
    wan_denoise_options d;
    d.steps = opt.steps;
    d.guidance = opt.cfg;
    d.shift = opt.shift;
    if (d.shift <= 0) {
        double s = 3.0;
        svg_gguf_get_float(f, "svg.scheduler.flow_shift", &s);
        d.shift = (float)s;
    }
    if (!opt.sampler.empty() && opt.sampler != "unipc" && opt.sampler != "euler")
        return svg_err(false, "Wan samplers are unipc and euler, not '%s'", opt.sampler.c_str());
    d.sampler = opt.sampler == "euler" ? svg_flow_sampler::EULER : svg_flow_sampler::UNIPC;
    d.act = opt.act;
    std::vector<svg_forward_tensor> steps;
    d.progress = [&](int done, int) { steps.push_back(svg_forward_tensor{"latents_step" + std::to_string(done - 1), in.latent_shape, in.latents}); };
    {
        wan_transformer m;
        if (!wan_transformer_load(f, be, &m)) return false;
        if (m.has_image) {
            // I2V: the first frame through the VAE encoder, the CLIP tokens as given
            if (!read_f32(inputs, "image_embeds", &in.image_shape, &in.image)) return svg_err(false, "I2V model: %s", svg_last_error());
            std::vector<int64_t> ishape;
            std::vector<float> image;
            if (!read_f32(inputs, "image", &ishape, &image)) return svg_err(false, "I2V model: %s", svg_last_error());
            if (ishape != std::vector<int64_t>{1, 3, height, width})
                return svg_err(false, "image must be [1, 3, %d, %d] (the video size), got %s", height, width, shape_str(ishape).c_str());
            for (float &x : image) x = 2 * x - 1;  // [0, 1] → [-1, 1], as the pipeline
            if (!wan_i2v_condition(vae, be, image, height, width, frames, &in.condition, &in.condition_shape)) return false;
        } else if (has(inputs, "image") || has(inputs, "image_embeds")) {
            return svg_err(false, "inputs hold 'image' / 'image_embeds', but the transformer is text-to-video");
        }
        if (!wan_denoise(m, be, in, d)) return false;
    }
    svg_flow_sampler sched;
    if (sched.init(d.sampler, d.steps, d.shift)) add_timesteps(sched, out);
    for (svg_forward_tensor &s : steps) out->outputs.push_back(std::move(s));
    // decode as WanPipeline: de-normalize, VAE, (x + 1) / 2 clamped, [B, F, 3, H, W]
    vae_tensor z{in.latent_shape, in.latents}, video;
    if (!wan_vae_denormalize(vae, &z) || !wan_vae_decode(vae, be, z, &video)) return false;
    add_video(video, out);
    return true;
}

}  // namespace

const char *svg_forward_components(void) {
    return "transformer, text_encoder, text_encoder_2, image_encoder, vae_decode, vae_encode, vae, pipeline, tokenizer, tokenizer_2";
}

bool svg_forward_is_component(const std::string &name) {
    for (const char *c : {"transformer", "text_encoder", "text_encoder_2", "image_encoder", "vae_decode", "vae_encode", "vae", "pipeline", "tokenizer",
                          "tokenizer_2"})
        if (name == c) return true;
    return false;
}

bool svg_forward_component(const svg_gguf *f, const std::string &component, svg_backend *be,
                           const svg_forward_options &opt, const svg_safetensors *inputs, svg_forward_result *out) {
    out->outputs.clear();
    if (component == "transformer") return forward_transformer(f, be, opt.act, inputs, out);
    if (component == "text_encoder" || component == "text_encoder_2") return forward_text_encoder(f, be, component, inputs, out);
    if (component == "image_encoder") return forward_image_encoder(f, be, inputs, out);
    if (component == "vae") return forward_vae(f, be, "", inputs, out);
    if (component == "vae_decode") return forward_vae(f, be, "decode", inputs, out);
    if (component == "vae_encode") return forward_vae(f, be, "encode", inputs, out);
    if (component == "pipeline") {
        const char *arch = svg_gguf_get_string(f, "general.architecture");
        if (arch && strcmp(arch, "cogvideox") == 0) return forward_cogvideox_pipeline(f, be, opt, inputs, out);
        if (arch && strcmp(arch, "hunyuan") == 0) return forward_hunyuan_pipeline(f, be, opt, inputs, out);
        return forward_pipeline(f, be, opt, inputs, out);
    }
    if (component == "tokenizer" || component == "tokenizer_2") return svg_err(false, "the tokenizer takes --text, not tensors");
    return svg_err(false, "unknown component '%s' (one of: %s)", component.c_str(), svg_forward_components());
}

bool svg_forward_component(const svg_gguf *f, const std::string &component, svg_backend *be, enum svg_type act,
                           const svg_safetensors *inputs, svg_forward_result *out) {
    svg_forward_options opt;
    opt.act = act;
    return svg_forward_component(f, component, be, opt, inputs, out);
}

bool svg_forward_tokenize(const svg_gguf *f, const std::string &text, std::vector<int32_t> *ids, const std::string &which) {
    const std::string key = "svg." + which;
    const int64_t ti = svg_gguf_find_key(f, (key + ".model").c_str());
    if (ti < 0) return svg_err(false, "the model file holds no %s (convert with --%s)", which.c_str(), which == "tokenizer" ? "tokenizer" : "tokenizer-2");
    const char *fmt = svg_gguf_get_string(f, (key + ".format").c_str());
    const void *bytes = svg_gguf_arr_data(f, ti);
    const size_t n = (size_t)svg_gguf_arr_n(f, ti);
    if (!(fmt && std::string(fmt) == "hf_json")) {
        svg_tokenizer tok;
        if (!tok.load_spm(bytes, n)) return svg_err(false, "%s: %s", which.c_str(), svg_last_error());
        *ids = tok.encode(text);
        return true;
    }
    // a tokenizer.json: Unigram (T5) or byte-level BPE (HunyuanVideo's Llama 3 and CLIP)
    svg_tokenizer unigram;
    if (unigram.load_hf_json(bytes, n)) {
        *ids = unigram.encode(text);
        return true;
    }
    svg_bpe_tokenizer bpe;
    if (!bpe.load_hf_json(bytes, n)) return svg_err(false, "%s: %s", which.c_str(), svg_last_error());
    *ids = bpe.encode(text, false);
    return true;
}
