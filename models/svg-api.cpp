// The embedding API of svg.h: the whole Wan 2.1 prompt → video pipeline
// behind svg_model / svg_generate. Stages: tokenize + umT5 encode (prompt and
// negative prompt) → (I2V: CLIP tokens + first-frame condition) → seeded
// noise → denoise (transformer + CFG + sampler) → VAE decode → RGB frames.
// Each component is loaded just before its stage and freed after it, so the
// peak is the largest component plus its activations.
#include <chrono>
#include <cmath>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "models/clip-vision.h"
#include "models/wan-pipeline.h"
#include "models/wan-vae.h"
#include "src/image.h"
#include "src/svg-impl.h"
#include "src/video.h"
#include "svg.h"

struct svg_model {
    svg_gguf *f = nullptr;
    svg_backend *be = nullptr;
    bool te_on_cpu = false;  // text encoder on a CPU backend of its own
    int n_threads = 0;
    bool vae_tiling = false;
    enum svg_type act = SVG_TYPE_F32;
    float default_shift = 3.0f;
    bool i2v = false, has_image_encoder = false;
    int64_t patch_h = 2, patch_w = 2;
    svg_tokenizer tok;
    // generation defaults (svg.gen.* / svg.sparse.* metadata, else Wan 2.1's)
    int width = 832, height = 480, frames = 81, steps = 50, fps = 16;
    float cfg = 5.0f;
    bool svg = true;
    float svg_density = 0.3f;
    int svg_rows = 64;
    float dense_steps = 0.25f, dense_layers = 0.025f, dense_steps_720p = 0.2f, dense_layers_720p = 0.03f;
    svg_gen_stats stats{};
    std::vector<svg_sparse_layer_stats> sparse_stats;
    ~svg_model() {
        svg_backend_free(be);
        svg_gguf_free(f);
    }
};

namespace {

// The Wan 2.1 release's default negative prompt.
const char *k_default_negative =
    "色调艳丽，过曝，静态，细节模糊不清，字幕，风格，作品，画作，画面，静止，整体发灰，最差质量，低质量，JPEG压缩残留，丑陋的，残缺的，多余的手指，"
    "画得不好的手部，画得不好的脸部，畸形的，毁容的，形态畸形的肢体，手指融合，静止不动的画面，杂乱的背景，三条腿，背景人很多，倒着走";

double now() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

bool has_component(const svg_gguf *f, const char *c) {
    svg_component_config cc;
    return svg_component_config_open(f, c, &cc);
}

// The user's callback; once it has asked to stop, every later check says so.
struct progress_hook {
    svg_progress_cb cb;
    void *user;
    bool stop = false;
    bool operator()(svg_stage stage, int step, int total) {
        if (!stop && cb && !cb(stage, step, total, user)) stop = true;
        return !stop;
    }
};

bool cancelled() { return svg_err(false, "svg_generate: cancelled by the progress callback"); }

// svg.gen.* and svg.sparse.* (svg-convert writes them; files without them
// keep the built-in Wan 2.1 values). Values out of range are refused.
bool read_generation_defaults(svg_model *m) {
    auto get_int = [&](const char *key, int *v, int lo, int hi) {
        int64_t x;
        if (!svg_gguf_get_int(m->f, key, &x)) return true;
        if (x < lo || x > hi) return svg_err(false, "model metadata %s = %lld is out of range [%d, %d]", key, (long long)x, lo, hi);
        *v = (int)x;
        return true;
    };
    auto get_float = [&](const char *key, float *v, double lo, double hi) {
        double x;
        if (!svg_gguf_get_float(m->f, key, &x)) return true;
        if (!(x >= lo && x <= hi)) return svg_err(false, "model metadata %s = %g is out of range [%g, %g]", key, x, lo, hi);
        *v = (float)x;
        return true;
    };
    const int64_t ki = svg_gguf_find_key(m->f, "svg.sparse.enabled");
    if (ki >= 0) {
        if (svg_gguf_kv_type(m->f, ki) != SVG_GGUF_BOOL) return svg_err(false, "model metadata svg.sparse.enabled is not a bool");
        m->svg = svg_gguf_get_bool(m->f, ki);
    }
    return get_int("svg.gen.width", &m->width, 16, 16384) && get_int("svg.gen.height", &m->height, 16, 16384) &&
           get_int("svg.gen.frames", &m->frames, 1, 4097) && get_int("svg.gen.steps", &m->steps, 1, 10000) &&
           get_int("svg.gen.fps", &m->fps, 1, 1000) && get_float("svg.gen.cfg", &m->cfg, 0, 100) &&
           get_float("svg.sparse.density", &m->svg_density, 1e-6, 1) && get_int("svg.sparse.rows", &m->svg_rows, 1, 65536) &&
           get_float("svg.sparse.dense_steps", &m->dense_steps, 0, 1) && get_float("svg.sparse.dense_layers", &m->dense_layers, 0, 1) &&
           get_float("svg.sparse.dense_steps_720p", &m->dense_steps_720p, 0, 1) &&
           get_float("svg.sparse.dense_layers_720p", &m->dense_layers_720p, 0, 1);
}

}  // namespace

extern "C" {

svg_model_params svg_model_default_params(void) {
    svg_model_params p;
    p.backend = nullptr;
    p.dtype = nullptr;
    p.n_threads = 0;
    p.text_encoder_device = nullptr;
    p.vae_tiling = false;
    return p;
}

svg_model *svg_model_load(const char *path, const svg_model_params *params) {
    const svg_model_params p = params ? *params : svg_model_default_params();
    if (!path) return svg_err<svg_model *>(nullptr, "svg_model_load: no path");
    const std::string backend = p.backend ? p.backend : "auto";
    if (backend != "auto" && backend != "cuda" && backend != "cpu")
        return svg_err<svg_model *>(nullptr, "backend must be cuda, cpu or auto, got '%s'", backend.c_str());
    const std::string te_dev = p.text_encoder_device ? p.text_encoder_device : "";
    if (!te_dev.empty() && te_dev != "cpu") return svg_err<svg_model *>(nullptr, "the text encoder device must be cpu, got '%s'", te_dev.c_str());

    std::unique_ptr<svg_model> m(new svg_model);
    m->f = svg_gguf_open(path);
    if (!m->f) return nullptr;
    // every component the pipeline needs, listed at once when missing
    std::string missing;
    for (const char *c : {"transformer", "text_encoder", "vae"})
        if (!has_component(m->f, c)) missing += std::string(missing.empty() ? "" : ", ") + c;
    if (svg_gguf_find_key(m->f, "svg.tokenizer.model") < 0) missing += std::string(missing.empty() ? "" : ", ") + "tokenizer";
    if (!missing.empty())
        return svg_err<svg_model *>(nullptr, "model file lacks: %s (convert the pipeline folder, or add --text-encoder/--vae/--tokenizer)",
                                    missing.c_str());
    m->has_image_encoder = has_component(m->f, "image_encoder");

    // what generation checks before any stage runs: T2V or I2V, patch size
    svg_component_config tc;
    std::vector<int64_t> patch;
    if (!svg_component_config_open(m->f, "transformer", &tc) || !tc.get_ints("patch_size", &patch)) return nullptr;
    if (patch.size() != 3 || patch[1] < 1 || patch[2] < 1) return svg_err<svg_model *>(nullptr, "transformer: patch_size must have 3 positive entries");
    m->patch_h = patch[1];
    m->patch_w = patch[2];
    m->i2v = tc.int_or("added_kv_proj_dim", 0) > 0;

    double s = 3.0;
    svg_gguf_get_float(m->f, "svg.scheduler.flow_shift", &s);
    m->default_shift = (float)s;
    if (!read_generation_defaults(m.get())) return nullptr;

    const int64_t ti = svg_gguf_find_key(m->f, "svg.tokenizer.model");
    const char *fmt = svg_gguf_get_string(m->f, "svg.tokenizer.format");
    const void *bytes = svg_gguf_arr_data(m->f, ti);
    const size_t n = (size_t)svg_gguf_arr_n(m->f, ti);
    const bool tok_ok = fmt && std::string(fmt) == "hf_json" ? m->tok.load_hf_json(bytes, n) : m->tok.load_spm(bytes, n);
    if (!tok_ok) {
        const std::string e = svg_last_error();
        return svg_err<svg_model *>(nullptr, "tokenizer: %s", e.c_str());
    }

    const bool cuda = backend == "cuda" || (backend == "auto" && svg_cuda_device_count() > 0);
    m->be = cuda ? svg_backend_cuda_new(0) : svg_backend_cpu_new(p.n_threads);
    if (!m->be && backend == "cuda") {
        const std::string e = svg_last_error();
        return svg_err<svg_model *>(nullptr, "backend cuda was asked for, but %s (backend auto falls back to the CPU)", e.c_str());
    }
    if (!m->be) return nullptr;
    m->n_threads = p.n_threads;
    m->te_on_cpu = te_dev == "cpu" && cuda;
    m->vae_tiling = p.vae_tiling;
    if (cuda) {
        const std::string d = p.dtype ? p.dtype : "bf16";
        if (!svg_type_from_name(d.c_str(), &m->act) || (m->act != SVG_TYPE_BF16 && m->act != SVG_TYPE_F16 && m->act != SVG_TYPE_F32))
            return svg_err<svg_model *>(nullptr, "--dtype must be bf16, f16 or f32");
    } else if (p.dtype && std::string(p.dtype) != "f32") {
        return svg_err<svg_model *>(nullptr, "the CPU backend computes in f32 (drop --dtype or use f32)");
    }
    return m.release();
}

void svg_model_free(svg_model *m) { delete m; }

const char *svg_model_backend_name(const svg_model *m) { return m ? svg_backend_name(m->be) : "?"; }

bool svg_model_is_i2v(const svg_model *m) { return m && m->i2v; }

const svg_gen_stats *svg_model_stats(const svg_model *m) { return m ? &m->stats : nullptr; }

int svg_model_sparse_stats(const svg_model *m, const svg_sparse_layer_stats **layers) {
    if (layers) *layers = m && !m->sparse_stats.empty() ? m->sparse_stats.data() : nullptr;
    return m ? (int)m->sparse_stats.size() : 0;
}

const char *svg_stage_name(svg_stage stage) {
    switch (stage) {
        case SVG_STAGE_TEXT_ENCODE: return "text_encode";
        case SVG_STAGE_IMAGE_ENCODE: return "image_encode";
        case SVG_STAGE_DENOISE: return "denoise";
        case SVG_STAGE_DECODE: return "decode";
    }
    return "?";
}

svg_gen_params svg_gen_default_params(const svg_model *m) {
    svg_gen_params p;
    p.prompt = "";
    p.negative_prompt = k_default_negative;
    const svg_model defaults;  // the built-in values, without a model
    const svg_model &d = m ? *m : defaults;
    p.width = d.width;
    p.height = d.height;
    p.frames = d.frames;
    p.steps = d.steps;
    p.cfg = d.cfg;
    p.shift = d.default_shift;
    p.sampler = SVG_SAMPLER_UNIPC;
    p.seed = 42;
    p.image = nullptr;
    p.image_width = p.image_height = 0;
    p.fps = d.fps;
    p.svg = d.svg;
    p.svg_density = d.svg_density;
    p.svg_rows = d.svg_rows;
    p.svg_dense_steps = -1.f;  // the model's, for the size generated
    p.svg_dense_layers = -1.f;
    p.svg_stats = false;
    return p;
}

size_t svg_gen_output_size(const svg_gen_params *p) {
    if (!p) return svg_err<size_t>(0, "no parameters");
    if (p->width < 16 || p->height < 16 || p->width % 16 || p->height % 16)
        return svg_err<size_t>(0, "width and height must be multiples of 16, got %dx%d", p->width, p->height);
    if (p->frames < 1 || (p->frames - 1) % 4) return svg_err<size_t>(0, "frames must be 4k+1 (e.g. 81), got %d", p->frames);
    if (p->svg && (!(p->svg_density > 0.f && p->svg_density <= 1.f) || p->svg_rows < 1 || !(p->svg_dense_steps <= 1.f) ||
                   !(p->svg_dense_layers <= 1.f)))
        return svg_err<size_t>(0, "sparse attention: density must be in (0, 1], rows ≥ 1, dense shares ≤ 1 (got %g, %d, %g, %g)",
                               p->svg_density, p->svg_rows, p->svg_dense_steps, p->svg_dense_layers);
    return (size_t)p->frames * p->height * p->width * 3;
}

bool svg_generate(svg_model *m, const svg_gen_params *p, uint8_t *frames, size_t frames_size, svg_progress_cb cb, void *user) {
    if (!m || !p) return svg_err(false, "svg_generate: no model or parameters");
    const double t0 = now();
    m->stats = svg_gen_stats{};
    m->sparse_stats.clear();
    svg_gen_stats &st = m->stats;
    // ---- every check before any stage runs
    const size_t need = svg_gen_output_size(p);
    if (!need) return false;
    if (!frames || frames_size < need)
        return svg_err(false, "frame buffer too small: %zu bytes for %d frames of %dx%d RGB (%zu bytes)", frames ? frames_size : 0, p->frames,
                       p->width, p->height, need);
    if (!p->prompt) return svg_err(false, "no prompt");
    if (p->steps < 1) return svg_err(false, "steps must be at least 1, got %d", p->steps);
    if (!(p->cfg >= 0) || !(p->shift > 0)) return svg_err(false, "cfg must be >= 0 and shift > 0, got %g and %g", p->cfg, p->shift);
    if (p->sampler != SVG_SAMPLER_UNIPC && p->sampler != SVG_SAMPLER_EULER) return svg_err(false, "sampler must be unipc or euler");
    const int64_t lf = (p->frames - 1) / 4 + 1, lh = p->height / 8, lw = p->width / 8;
    if (lh % m->patch_h || lw % m->patch_w) return svg_err(false, "height/width do not fit the transformer's patch size");
    const bool i2v = p->image != nullptr;
    if (i2v && (p->image_width < 1 || p->image_height < 1)) return svg_err(false, "image size %dx%d", p->image_width, p->image_height);
    if (i2v && !m->has_image_encoder)
        return svg_err(false, "model file lacks: image_encoder (convert the pipeline folder, or add --image-encoder)");
    if (!i2v && m->i2v) return svg_err(false, "this is an image-to-video model: give a first-frame image");
    if (i2v && !m->i2v) return svg_err(false, "a first-frame image was given, but this is a text-to-video model");
    progress_hook hook{cb, user};
    svg_backend *be = m->be;

    // ---- text encoding
    const double t_text = now();
    wan_denoise_inputs in;
    {
        const bool cfg = p->cfg > 1.0f;
        const int total = cfg ? 2 : 1;
        if (!hook(SVG_STAGE_TEXT_ENCODE, 0, total)) return cancelled();
        std::unique_ptr<svg_backend, decltype(&svg_backend_free)> te_cpu(m->te_on_cpu ? svg_backend_cpu_new(m->n_threads) : nullptr,
                                                                          svg_backend_free);
        if (m->te_on_cpu && !te_cpu) return false;
        svg_backend *te_be = te_cpu ? te_cpu.get() : be;
        umt5_encoder te;
        if (!umt5_load(m->f, te_be, &te)) return false;
        const int max_len = 512;
        if (!wan_encode_prompt(m->tok, te, te_be, p->prompt, max_len, &in.cond, &st.prompt_tokens)) return false;
        if (cfg && !hook(SVG_STAGE_TEXT_ENCODE, 1, total)) return cancelled();
        if (cfg && !wan_encode_prompt(m->tok, te, te_be, p->negative_prompt ? p->negative_prompt : k_default_negative, max_len, &in.uncond,
                                      &st.negative_tokens))
            return false;
        in.text_shape = {1, max_len, te.d_model};
        st.text_encode_s = now() - t_text;
        if (!hook(SVG_STAGE_TEXT_ENCODE, total, total)) return cancelled();
    }

    // ---- I2V: CLIP tokens of the image, and the first-frame condition
    if (i2v) {
        const double t_img = now();
        if (!hook(SVG_STAGE_IMAGE_ENCODE, 0, 2)) return cancelled();
        svg_image img;
        img.width = p->image_width;
        img.height = p->image_height;
        img.rgb.assign(p->image, p->image + (size_t)img.width * img.height * 3);
        std::vector<float> pixels;
        if (!svg_image_clip_preprocess(img, svg_clip_image_config{}, &pixels)) return false;
        {
            clip_vision clip;
            if (!clip_vision_load(m->f, be, &clip)) return false;
            svg_context *ctx = svg_context_new(true);
            svg_host_inputs host;
            const int64_t ne[4] = {1, 3, 224, 224};
            svg_tensor *y = clip_vision_forward(ctx, clip, host.add(ctx, 4, ne, pixels, "pixel_values"), &host);
            svg_gallocr *ga = svg_gallocr_new(be);
            const bool ok = y && svg_compute_to_host(be, ga, ctx, y, host, &in.image);
            if (ok) in.image_shape.assign(y->ne, y->ne + y->n_dims);
            svg_gallocr_free(ga);
            svg_context_free(ctx);
            if (!ok) return false;
        }
        st.image_tokens = (int)in.image_shape[1];
        if (!hook(SVG_STAGE_IMAGE_ENCODE, 1, 2)) return cancelled();
        std::vector<float> first;
        int w = 0, h = 0;
        if (!svg_image_vae_preprocess(img, p->width, p->height, 8, &first, &w, &h)) return false;
        wan_vae vae;
        if (!wan_vae_load(m->f, be, &vae) || !wan_i2v_condition(vae, be, first, h, w, p->frames, &in.condition, &in.condition_shape))
            return false;
        st.image_encode_s = now() - t_img;
        if (!hook(SVG_STAGE_IMAGE_ENCODE, 2, 2)) return cancelled();
    }

    // ---- denoising
    const double t_den = now();
    {
        wan_transformer tr;
        if (!wan_transformer_load(m->f, be, &tr)) return false;
        in.latent_shape = {1, 16, lf, lh, lw};
        in.latents = svg_noise((size_t)(16 * lf * lh * lw), p->seed);
        wan_denoise_options d;
        d.steps = p->steps;
        d.guidance = p->cfg;
        d.shift = p->shift;
        d.sampler = p->sampler == SVG_SAMPLER_EULER ? svg_flow_sampler::EULER : svg_flow_sampler::UNIPC;
        d.act = m->act;
        // dense shares: the caller's, else the model's for this size
        const bool hd = (int64_t)p->width * p->height >= 1280 * 720;
        const double dense_steps = p->svg_dense_steps >= 0.f ? p->svg_dense_steps : hd ? m->dense_steps_720p : m->dense_steps;
        const double dense_layers = p->svg_dense_layers >= 0.f ? p->svg_dense_layers : hd ? m->dense_layers_720p : m->dense_layers;
        d.sparse.enabled = p->svg;
        d.sparse.density = p->svg_density;
        d.sparse.rows = p->svg_rows;
        d.sparse.dense_layers = (int)std::floor(dense_layers * (double)tr.layers);
        d.sparse.seed = (uint32_t)p->seed;
        d.sparse_dense_steps = dense_steps;
        dit_sparse_stats counts;
        if (p->svg && p->svg_stats) d.stats = &counts;
        d.progress = [&](int done, int total) {
            if (done == total) st.denoise_s = now() - t_den;
            hook(SVG_STAGE_DENOISE, done, total);
        };
        d.cancel = [&] { return hook.stop; };
        if (!hook(SVG_STAGE_DENOISE, 0, p->steps)) return cancelled();
        if (!wan_denoise(tr, be, in, d)) return hook.stop ? cancelled() : false;
        if (hook.stop) return cancelled();
        // per layer: heads decided, and the share of pairs over all forwards
        m->sparse_stats.clear();
        const int forwards = counts.sparse_forwards + counts.dense_forwards;
        for (size_t i = 0; d.stats && forwards > 0 && i < counts.spatial.size(); i++) {
            const bool sparse_layer = (int64_t)i >= d.sparse.dense_layers;
            const double sparse_share = sparse_layer ? (double)counts.sparse_forwards / forwards : 0.0;
            m->sparse_stats.push_back({counts.spatial[i], counts.temporal[i], 1.0 - sparse_share * (1.0 - counts.band_density)});
        }
    }
    st.denoise_s = now() - t_den;

    // ---- VAE decode
    const double t_vae = now();
    vae_tensor video;
    {
        wan_vae vae;
        if (!wan_vae_load(m->f, be, &vae)) return false;
        vae_tensor z{in.latent_shape, in.latents};
        if (!wan_vae_denormalize(vae, &z)) return false;
        // chunks in all: one per latent frame and tile (diffusers' tiles of 256 px every 192)
        const vae_tiling tiling{256, 256, 192, 192};
        const int64_t f8 = vae.spatial_factor, th = tiling.tile_h / f8, tw = tiling.tile_w / f8;
        const int64_t sh = tiling.stride_h / f8, sw = tiling.stride_w / f8;
        const int64_t tiles = m->vae_tiling && (lh > th || lw > tw) ? ((lh + sh - 1) / sh) * ((lw + sw - 1) / sw) : 1;
        if (!hook(SVG_STAGE_DECODE, 0, (int)(tiles * lf))) return cancelled();
        const vae_progress prog = [&](int64_t done, int64_t total) {
            if (done == total) st.decode_s = now() - t_vae;
            return hook(SVG_STAGE_DECODE, (int)done, (int)total);
        };
        const bool ok = m->vae_tiling ? wan_vae_decode_tiled(vae, be, z, tiling, &video, prog)
                                      : wan_vae_decode(vae, be, z, &video, prog);
        if (hook.stop) return cancelled();
        if (!ok) return false;
    }
    st.decode_s = now() - t_vae;

    // ---- [1, 3, F, H, W] in [-1, 1] → F × H × W × 3 bytes, one frame at a time
    const int F = (int)video.shape[2], H = (int)video.shape[3], W = (int)video.shape[4];
    if (F != p->frames || H != p->height || W != p->width)
        return svg_err(false, "svg_generate: the VAE produced %dx%dx%d, expected %dx%dx%d", F, W, H, p->frames, p->width, p->height);
    const size_t plane = (size_t)H * W;
    std::vector<float> frame(3 * plane);
    for (int t = 0; t < F; t++) {
        for (int c = 0; c < 3; c++)
            for (size_t q = 0; q < plane; q++) frame[c * plane + q] = video.data[((size_t)c * F + t) * plane + q] * 0.5f + 0.5f;
        const std::vector<uint8_t> rgb = svg_video_to_rgb(frame.data(), 1, H, W);
        std::memcpy(frames + (size_t)t * plane * 3, rgb.data(), rgb.size());
    }
    st.peak_device_bytes = svg_backend_cuda_peak_memory(be);
    st.total_s = now() - t0;
    return true;
}

}  // extern "C"
