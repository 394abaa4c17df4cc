// The embedding API of svg.h: the prompt → video pipelines behind svg_model /
// svg_generate. Stages, for every family: tokenize + (u)T5 encode (prompt and
// negative prompt) → I2V conditioning → seeded noise → denoise (transformer +
// guidance + sampler) → VAE decode → RGB frames. What differs per family
// (Wan 2.1, CogVideoX 1.5, HunyuanVideo) is one function each, generate_wan,
// generate_cogvideox and generate_hunyuan; checks, progress, Sparse VideoGen settings and the
// output are shared. Each component is loaded just before its stage and freed
// after it, so the peak is the largest component plus its activations.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "models/clip-vision.h"
#include "models/cogvideox-pipeline.h"
#include "models/hunyuan-pipeline.h"
#include "models/hunyuan-vae.h"
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
    bool te_on_cpu_asked = false;  // by the caller (else the plan decides)
    size_t vram_budget = 0;  // CUDA: bytes the backend may hold (0: CPU backend)
    double vram_budget_asked = 0;  // svg_model_params.vram_budget_gib
    std::string plan;        // svg_model_memory_plan's text
    int n_threads = 0;
    bool vae_tiling = false;
    enum svg_type act = SVG_TYPE_F32;
    std::string arch = "wan";  // general.architecture: wan | cogvideox | hunyuan
    float default_shift = 3.0f;
    svg_sampler default_sampler = SVG_SAMPLER_UNIPC;
    bool i2v = false, has_image_encoder = false;
    int64_t patch_h = 2, patch_w = 2, patch_t = 1;
    int text_len = 512;  // text encoder slots: umT5 512 (Wan), T5 226 (CogVideoX), Llama 256 (HunyuanVideo)
    svg_tokenizer tok;
    svg_bpe_tokenizer bpe, bpe_2;  // HunyuanVideo: Llama 3's, CLIP's
    // generation defaults (svg.gen.* / svg.sparse.* metadata, else Wan 2.1's)
    int width = 832, height = 480, frames = 81, steps = 50, fps = 16;
    float cfg = 5.0f, embedded_cfg = 6.0f;
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
           get_float("svg.gen.embedded_cfg", &m->embedded_cfg, 0, 100) &&
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
    p.vram_budget_gib = 0.0;
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
    if (!(p.vram_budget_gib >= 0 && p.vram_budget_gib < 1e6))
        return svg_err<svg_model *>(nullptr, "the VRAM budget must be a size in GiB (0: the card's free memory), got %g", p.vram_budget_gib);

    std::unique_ptr<svg_model> m(new svg_model);
    m->f = svg_gguf_open(path);
    if (!m->f) return nullptr;
    // every component the pipeline needs, listed at once when missing
    std::string missing;
    for (const char *c : {"transformer", "text_encoder", "vae"})
        if (!has_component(m->f, c)) missing += std::string(missing.empty() ? "" : ", ") + c;
    if (svg_gguf_find_key(m->f, "svg.tokenizer.model") < 0) missing += std::string(missing.empty() ? "" : ", ") + "tokenizer";
    const char *arch = svg_gguf_get_string(m->f, "general.architecture");
    m->arch = arch ? arch : "wan";
    if (m->arch == "hunyuan") {  // and CLIP with its tokenizer
        if (!has_component(m->f, "text_encoder_2")) missing += std::string(missing.empty() ? "" : ", ") + "text_encoder_2";
        if (svg_gguf_find_key(m->f, "svg.tokenizer_2.model") < 0) missing += std::string(missing.empty() ? "" : ", ") + "tokenizer_2";
    }
    if (!missing.empty())
        return svg_err<svg_model *>(nullptr, "model file lacks: %s (convert the pipeline folder, or add --text-encoder/--vae/--tokenizer)",
                                    missing.c_str());
    m->has_image_encoder = has_component(m->f, "image_encoder");

    // what generation checks before any stage runs: the family, T2V or I2V, patch sizes
    svg_component_config tc;
    if (!svg_component_config_open(m->f, "transformer", &tc)) return nullptr;
    if (m->arch == "wan") {
        std::vector<int64_t> patch;
        if (!tc.get_ints("patch_size", &patch)) return nullptr;
        if (patch.size() != 3 || patch[1] < 1 || patch[2] < 1) return svg_err<svg_model *>(nullptr, "transformer: patch_size must have 3 positive entries");
        m->patch_h = patch[1];
        m->patch_w = patch[2];
        m->i2v = tc.int_or("added_kv_proj_dim", 0) > 0;
        double s = 3.0;
        svg_gguf_get_float(m->f, "svg.scheduler.flow_shift", &s);
        m->default_shift = (float)s;
    } else if (m->arch == "cogvideox") {
        int64_t patch = 0;
        if (!tc.get_int("patch_size", &patch)) return nullptr;
        m->patch_h = m->patch_w = patch;
        m->patch_t = tc.int_or("patch_size_t", 1);
        if (patch < 1 || m->patch_t < 1) return svg_err<svg_model *>(nullptr, "transformer: patch sizes must be positive");
        m->i2v = tc.int_or("in_channels", 16) == 2 * tc.int_or("out_channels", 16);
        m->text_len = (int)tc.int_or("max_text_seq_length", 226);
        svg_ddpm_sampler::kind_t kind;
        svg_ddpm_config schedule;
        if (!cogvideox_scheduler_from_file(m->f, &kind, &schedule)) return nullptr;
        m->default_sampler = kind == svg_ddpm_sampler::DPM ? SVG_SAMPLER_DPM : SVG_SAMPLER_DDIM;
        // CogVideoX 1.5's release settings, where the file has no svg.gen.*
        m->width = 1360, m->height = 768, m->cfg = 6.0f;
        m->dense_layers = m->dense_layers_720p = 0.0f;
        m->dense_steps_720p = m->dense_steps;
    } else if (m->arch == "hunyuan") {
        m->patch_h = m->patch_w = tc.int_or("patch_size", 2);
        m->patch_t = tc.int_or("patch_size_t", 1);
        if (m->patch_h < 1 || m->patch_t < 1) return svg_err<svg_model *>(nullptr, "transformer: patch sizes must be positive");
        m->text_len = 256;
        m->default_sampler = SVG_SAMPLER_EULER;
        double s = 7.0;
        svg_gguf_get_float(m->f, "svg.scheduler.shift", &s);
        m->default_shift = (float)s;
        // HunyuanVideo's release settings, where the file has no svg.gen.*:
        // 1280×720, 129 frames, embedded guidance 6 without true CFG, 24 fps;
        // Sparse VideoGen as the paper runs it on HunyuanVideo: about 30% of
        // the pairs computed, the first 25% of steps dense, no dense layers
        m->width = 1280, m->height = 720, m->frames = 129, m->cfg = 1.0f, m->fps = 24;
        m->dense_layers = m->dense_layers_720p = 0.0f;
        m->dense_steps = m->dense_steps_720p = 0.25f;
    } else {
        return svg_err<svg_model *>(nullptr, "no generation pipeline for architecture '%s' (wan, cogvideox, hunyuan)", m->arch.c_str());
    }
    if (!read_generation_defaults(m.get())) return nullptr;

    // tokenizers: HunyuanVideo's two byte-level BPE ones, else a SentencePiece / Unigram one
    auto tokenizer_bytes = [&](const char *key, size_t *n) {
        const int64_t ti = svg_gguf_find_key(m->f, key);
        *n = (size_t)svg_gguf_arr_n(m->f, ti);
        return svg_gguf_arr_data(m->f, ti);
    };
    size_t n = 0;
    const void *bytes = tokenizer_bytes("svg.tokenizer.model", &n);
    const char *fmt = svg_gguf_get_string(m->f, "svg.tokenizer.format");
    const bool json = fmt && std::string(fmt) == "hf_json";
    bool tok_ok;
    if (m->arch == "hunyuan") {
        size_t n2 = 0;
        const void *bytes_2 = tokenizer_bytes("svg.tokenizer_2.model", &n2);
        tok_ok = m->bpe.load_hf_json(bytes, n) && (m->bpe_2.load_hf_json(bytes_2, n2) || svg_err(false, "tokenizer_2: %s", svg_last_error()));
    } else {
        tok_ok = json ? m->tok.load_hf_json(bytes, n) : m->tok.load_spm(bytes, n);
    }
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
    m->te_on_cpu = m->te_on_cpu_asked = te_dev == "cpu" && cuda;
    m->vram_budget_asked = p.vram_budget_gib;
    m->vae_tiling = p.vae_tiling;
    if (cuda) {
        size_t free_b = 0;
        if (!svg_cuda_memory_info(0, &free_b, nullptr)) return nullptr;
        m->vram_budget = p.vram_budget_gib > 0 ? (size_t)(p.vram_budget_gib * 1073741824.0) : free_b;
        if (!svg_backend_cuda_set_memory_limit(m->be, m->vram_budget)) return nullptr;
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
const char *svg_model_backend_description(const svg_model *m) { return m ? svg_backend_description(m->be) : "?"; }

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
    p.embedded_cfg = d.embedded_cfg;
    p.shift = d.default_shift;
    p.sampler = d.default_sampler;
    if (m && m->arch != "wan") p.negative_prompt = "";
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

}  // extern "C"

namespace {

// One svg_generate call: the model, the request, progress and the numbers.
struct run {
    svg_model *m;
    const svg_gen_params *p;
    progress_hook &hook;
    svg_gen_stats &st;
};

// The backend the text encoders run on: the model's, or a CPU backend of
// their own when asked (text_encoder_device "cpu").
struct text_backend {
    std::unique_ptr<svg_backend, decltype(&svg_backend_free)> cpu;
    svg_backend *be;
    explicit text_backend(const svg_model *m)
        : cpu(m->te_on_cpu ? svg_backend_cpu_new(m->n_threads) : nullptr, svg_backend_free), be(m->te_on_cpu ? cpu.get() : m->be) {}
};

using encode_prompt_fn = bool (*)(const svg_tokenizer &, const umt5_encoder &, svg_backend *, const std::string &, int, std::vector<float> *, int *);

// Text stage: the prompt and (with guidance) the negative prompt through the
// (u)T5 encoder, on its own CPU backend when asked → [1, text_len, d] each.
bool encode_texts(run &r, encode_prompt_fn encode, const char *default_negative, std::vector<float> *cond, std::vector<float> *uncond,
                  std::vector<int64_t> *shape) {
    const double t0 = now();
    const bool cfg = r.p->cfg > 1.0f;
    const int total = cfg ? 2 : 1;
    if (!r.hook(SVG_STAGE_TEXT_ENCODE, 0, total)) return cancelled();
    const text_backend tb(r.m);
    svg_backend *be = tb.be;
    if (!be) return false;
    umt5_encoder te;
    if (!umt5_load(r.m->f, be, &te)) return false;
    if (!encode(r.m->tok, te, be, r.p->prompt, r.m->text_len, cond, &r.st.prompt_tokens)) return false;
    if (cfg && !r.hook(SVG_STAGE_TEXT_ENCODE, 1, total)) return cancelled();
    if (cfg && !encode(r.m->tok, te, be, r.p->negative_prompt ? r.p->negative_prompt : default_negative, r.m->text_len, uncond,
                       &r.st.negative_tokens))
        return false;
    *shape = {1, r.m->text_len, te.d_model};
    r.st.text_encode_s = now() - t0;
    return r.hook(SVG_STAGE_TEXT_ENCODE, total, total) || cancelled();
}

// Sparse VideoGen as asked: dense shares are the caller's, else the model's for this size.
dit_sparse_attention sparse_settings(const run &r, int64_t layers, double *dense_steps) {
    const svg_gen_params &p = *r.p;
    const bool hd = (int64_t)p.width * p.height >= 1280 * 720;
    *dense_steps = p.svg_dense_steps >= 0.f ? p.svg_dense_steps : hd ? r.m->dense_steps_720p : r.m->dense_steps;
    const double dense_layers = p.svg_dense_layers >= 0.f ? p.svg_dense_layers : hd ? r.m->dense_layers_720p : r.m->dense_layers;
    dit_sparse_attention a;
    a.enabled = p.svg;
    a.density = p.svg_density;
    a.rows = p.svg_rows;
    a.dense_layers = (int)std::floor(dense_layers * (double)layers);
    a.seed = (uint32_t)p.seed;
    return a;
}

// Per layer: heads decided, and the share of pairs computed over all forwards.
void keep_sparse_stats(svg_model *m, const dit_sparse_stats &counts, int dense_layers) {
    m->sparse_stats.clear();
    const int forwards = counts.sparse_forwards + counts.dense_forwards;
    for (size_t i = 0; forwards > 0 && i < counts.spatial.size(); i++) {
        const bool sparse_layer = (int64_t)i >= dense_layers;
        const double sparse_share = sparse_layer ? (double)counts.sparse_forwards / forwards : 0.0;
        m->sparse_stats.push_back({counts.spatial[i], counts.temporal[i], 1.0 - sparse_share * (1.0 - counts.band_density)});
    }
}

// The denoise stage around a family's loop: the request's steps, guidance,
// activations and Sparse VideoGen settings into d, progress and
// cancellation, the per-layer statistics kept; loop(d) runs the family's loop.
template <typename Loop>
bool denoise_stage(run &r, int64_t layers, svg_denoise_options *d, const Loop &loop) {
    const double t0 = now();
    const svg_gen_params &p = *r.p;
    d->steps = p.steps;
    d->guidance = p.cfg;
    d->act = r.m->act;
    d->sparse = sparse_settings(r, layers, &d->sparse_dense_steps);
    dit_sparse_stats counts;
    if (p.svg && p.svg_stats) d->stats = &counts;
    d->progress = [&r, t0](int done, int total) {
        if (done == total) r.st.denoise_s = now() - t0;
        r.hook(SVG_STAGE_DENOISE, done, total);
    };
    d->cancel = [&r] { return r.hook.stop; };
    if (!r.hook(SVG_STAGE_DENOISE, 0, p.steps)) return cancelled();
    if (!loop()) return r.hook.stop ? cancelled() : false;
    if (r.hook.stop) return cancelled();
    if (d->stats) keep_sparse_stats(r.m, counts, d->sparse.dense_layers);
    d->stats = nullptr;
    r.st.denoise_s = now() - t0;
    return true;
}

vae_progress decode_progress(run &r, double t0) {
    return [&r, t0](int64_t done, int64_t total) {
        if (done == total) r.st.decode_s = now() - t0;
        return r.hook(SVG_STAGE_DECODE, (int)done, (int)total);
    };
}

// The decode stage around a family's VAE call (t0: when its loading began):
// progress over `chunks`, cancellation, its time; decode(progress) decodes.
template <typename Decode>
bool decode_stage(run &r, double t0, int64_t chunks, const Decode &decode) {
    if (!r.hook(SVG_STAGE_DECODE, 0, (int)chunks)) return cancelled();
    const bool ok = decode(decode_progress(r, t0));
    if (r.hook.stop) return cancelled();
    r.st.decode_s = now() - t0;
    return ok;
}

// Chunks a decode runs: per tile (one when untiled) its frame batches.
int64_t decode_chunks(bool tiled, const vae_tiling &t, int64_t f, int64_t h, int64_t w, int64_t per_tile) {
    const int64_t th = t.tile_h / f, tw = t.tile_w / f, sh = t.stride_h / f, sw = t.stride_w / f;
    const int64_t tiles = tiled && (h > th || w > tw) ? ((h + sh - 1) / sh) * ((w + sw - 1) / sw) : 1;
    return tiles * per_tile;
}

// The first frame: the caller's RGB bytes resized as the reference does → [3, H, W] in [−1, 1].
bool first_frame(const svg_gen_params &p, svg_image *img, std::vector<float> *pixels) {
    img->width = p.image_width;
    img->height = p.image_height;
    img->rgb.assign(p.image, p.image + (size_t)img->width * img->height * 3);
    int w = 0, h = 0;
    if (!svg_image_vae_preprocess(*img, p.width, p.height, 8, pixels, &w, &h)) return false;
    if (w != p.width || h != p.height) return svg_err(false, "i2v: the first frame came out %dx%d, not %dx%d", w, h, p.width, p.height);
    return true;
}

// Wan 2.1: umT5 (512) → I2V: CLIP tokens + mask/first-frame condition →
// flow-matching UniPC / Euler, cond and uncond as two forwards → Wan VAE.
bool generate_wan(run &r, vae_tensor *video) {
    svg_model *m = r.m;
    const svg_gen_params *p = r.p;
    svg_backend *be = m->be;
    if (p->sampler != SVG_SAMPLER_UNIPC && p->sampler != SVG_SAMPLER_EULER) return svg_err(false, "Wan samplers are unipc and euler");
    const bool i2v = p->image != nullptr;
    const int64_t lf = (p->frames - 1) / 4 + 1, lh = p->height / 8, lw = p->width / 8;
    wan_denoise_inputs in;
    if (!encode_texts(r, wan_encode_prompt, k_default_negative, &in.cond, &in.uncond, &in.text_shape)) return false;

    // ---- I2V: CLIP tokens of the image, and the first-frame condition
    if (i2v) {
        const double t_img = now();
        if (!r.hook(SVG_STAGE_IMAGE_ENCODE, 0, 2)) return cancelled();
        svg_image img;
        std::vector<float> first;
        if (!first_frame(*p, &img, &first)) return false;
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
        r.st.image_tokens = (int)in.image_shape[1];
        if (!r.hook(SVG_STAGE_IMAGE_ENCODE, 1, 2)) return cancelled();
        wan_vae vae;
        if (!wan_vae_load(m->f, be, &vae) ||
            !wan_i2v_condition(vae, be, first, p->height, p->width, p->frames, &in.condition, &in.condition_shape))
            return false;
        r.st.image_encode_s = now() - t_img;
        if (!r.hook(SVG_STAGE_IMAGE_ENCODE, 2, 2)) return cancelled();
    }

    // ---- denoising
    {
        wan_transformer tr;
        if (!wan_transformer_load(m->f, be, &tr)) return false;
        in.latent_shape = {1, 16, lf, lh, lw};
        in.latents = svg_noise((size_t)(16 * lf * lh * lw), p->seed);
        wan_denoise_options d;
        d.shift = p->shift;
        d.sampler = p->sampler == SVG_SAMPLER_EULER ? svg_flow_sampler::EULER : svg_flow_sampler::UNIPC;
        if (!denoise_stage(r, tr.layers, &d, [&] { return wan_denoise(tr, be, in, d); })) return false;
    }

    // ---- VAE decode: one chunk per latent frame (and tile: diffusers' tiles of 256 px every 192)
    const double t_vae = now();
    wan_vae vae;
    if (!wan_vae_load(m->f, be, &vae)) return false;
    vae_tensor z{in.latent_shape, in.latents};
    if (!wan_vae_denormalize(vae, &z)) return false;
    const vae_tiling tiling{256, 256, 192, 192};
    return decode_stage(r, t_vae, decode_chunks(m->vae_tiling, tiling, vae.spatial_factor, lh, lw, lf), [&](const vae_progress &prog) {
        return m->vae_tiling ? wan_vae_decode_tiled(vae, be, z, tiling, video, prog) : wan_vae_decode(vae, be, z, video, prog);
    });
}

// CogVideoX 1.5: T5 over 226 slots → I2V: first-frame image latents →
// DDIM / DPM with [uncond, cond] in one forward over the latent frames padded
// to a multiple of patch_size_t → the padding dropped → CogVideoX VAE.
bool generate_cogvideox(run &r, vae_tensor *video) {
    svg_model *m = r.m;
    const svg_gen_params *p = r.p;
    svg_backend *be = m->be;
    if (p->sampler != SVG_SAMPLER_DDIM && p->sampler != SVG_SAMPLER_DPM) return svg_err(false, "CogVideoX samplers are ddim and dpm");
    const cogvideox_frames lf = cogvideox_latent_frames(m->patch_t, p->frames);
    const int64_t latent = lf.latent, pad = lf.padding;
    // the reference decodes latent + pad − pad frames: an even count gives 4·latent frames, not the 4·latent − 3 asked for
    if (latent % 2 == 0 && m->patch_t == 2)
        return svg_err(false, "CogVideoX 1.5 makes 8k+1 frames (e.g. 81, 49, 17): %d frames would decode to %lld", p->frames,
                       (long long)(4 * latent));
    const int64_t lh = p->height / 8, lw = p->width / 8, F = latent + pad;
    cogvideox_denoise_inputs in;
    if (!encode_texts(r, cogvideox_encode_prompt, "", &in.cond, &in.uncond, &in.text_shape)) return false;
    in.latent_shape = {1, F, 16, lh, lw};

    if (p->image) {
        const double t_img = now();
        if (!r.hook(SVG_STAGE_IMAGE_ENCODE, 0, 1)) return cancelled();
        svg_image img;
        std::vector<float> first;
        cogvideox_vae vae;
        // the posterior's noise: a stream of its own, apart from the latents'
        if (!first_frame(*p, &img, &first) || !cogvideox_vae_load(m->f, be, &vae) ||
            !cogvideox_image_latents(vae, be, first, p->height, p->width, F, p->seed ^ 0x9E3779B97F4A7C15ull, &in.image_latents))
            return false;
        r.st.image_encode_s = now() - t_img;
        if (!r.hook(SVG_STAGE_IMAGE_ENCODE, 1, 1)) return cancelled();
    }

    {
        cogvideox_transformer tr;
        if (!cogvideox_transformer_load(m->f, be, &tr)) return false;
        if (tr.out_channels != 16) return svg_err(false, "transformer: %lld output channels, the VAE takes 16", (long long)tr.out_channels);
        in.latents = svg_noise((size_t)(F * 16 * lh * lw), p->seed);
        cogvideox_denoise_options d;
        svg_ddpm_sampler::kind_t kind;
        if (!cogvideox_scheduler_from_file(m->f, &kind, &d.schedule)) return false;
        d.sampler = p->sampler == SVG_SAMPLER_DPM ? svg_ddpm_sampler::DPM : svg_ddpm_sampler::DDIM;
        d.seed = p->seed;
        if (!denoise_stage(r, tr.layers, &d, [&] { return cogvideox_denoise(tr, be, in, d); })) return false;
    }

    const double t_vae = now();
    cogvideox_vae vae;
    if (!cogvideox_vae_load(m->f, be, &vae)) return false;
    const int64_t batches = std::max<int64_t>(latent / 2, 1);
    // always in tiles, as the release's own scripts decode (vae.enable_tiling()):
    // an untiled 1360×768×81 decode needs about 108 GiB
    return decode_stage(r, t_vae, decode_chunks(true, vae.tiling, vae.spatial_factor, lh, lw, batches), [&](const vae_progress &prog) {
        return cogvideox_decode_latents(vae, be, in.latents, in.latent_shape, pad, true, video, prog);
    });
}

// HunyuanVideo: Llama (template, 256 tokens, hidden_states[-3]) and CLIP-L
// pooled → flow-matching Euler with embedded guidance (true CFG with the
// negative prompt when cfg > 1) → HunyuanVideo VAE in windows and tiles.
bool generate_hunyuan(run &r, vae_tensor *video) {
    svg_model *m = r.m;
    const svg_gen_params *p = r.p;
    svg_backend *be = m->be;
    if (p->sampler != SVG_SAMPLER_EULER) return svg_err(false, "the HunyuanVideo sampler is euler");
    if (!(p->embedded_cfg >= 0)) return svg_err(false, "embedded guidance must be >= 0, got %g", p->embedded_cfg);
    const int64_t lf = (p->frames - 1) / 4 + 1, lh = p->height / 8, lw = p->width / 8;
    hunyuan_denoise_inputs in;
    {
        const double t0 = now();
        const bool cfg = p->cfg > 1.0f;
        const int total = cfg ? 2 : 1;
        if (!r.hook(SVG_STAGE_TEXT_ENCODE, 0, total)) return cancelled();
        const text_backend tb(m);
        svg_backend *tbe = tb.be;
        if (!tbe) return false;
        const char *negative = p->negative_prompt ? p->negative_prompt : "";
        {
            llama_model te;
            if (!llama_load(m->f, tbe, &te) || !hunyuan_encode_llama(m->bpe, te, tbe, p->prompt, m->text_len, &in.cond, &r.st.prompt_tokens) ||
                (cfg && !hunyuan_encode_llama(m->bpe, te, tbe, negative, m->text_len, &in.uncond, &r.st.negative_tokens)))
                return false;
        }
        if (cfg && !r.hook(SVG_STAGE_TEXT_ENCODE, 1, total)) return cancelled();
        clip_text clip;
        if (!clip_text_load(m->f, "text_encoder_2", tbe, &clip) || !hunyuan_encode_clip(m->bpe_2, clip, tbe, p->prompt, &in.cond) ||
            (cfg && !hunyuan_encode_clip(m->bpe_2, clip, tbe, negative, &in.uncond)))
            return false;
        r.st.text_encode_s = now() - t0;
        if (!r.hook(SVG_STAGE_TEXT_ENCODE, total, total)) return cancelled();
    }
    {
        hunyuan_transformer tr;
        if (!hunyuan_transformer_load(m->f, be, &tr)) return false;
        if (tr.in_channels != 16 || tr.out_channels != 16)
            return svg_err(false, "transformer: %lld / %lld channels in / out, the VAE takes 16", (long long)tr.in_channels, (long long)tr.out_channels);
        in.latent_shape = {1, 16, lf, lh, lw};
        in.latents = svg_noise((size_t)(16 * lf * lh * lw), p->seed);
        hunyuan_denoise_options d;
        d.embedded_guidance = p->embedded_cfg;
        d.shift = p->shift;
        if (!denoise_stage(r, tr.layers + tr.single_layers, &d, [&] { return hunyuan_denoise(tr, be, in, d); })) return false;
    }
    const double t_vae = now();
    hunyuan_vae vae;
    if (!hunyuan_vae_load(m->f, be, &vae)) return false;
    // windows of latent frames × spatial tiles, as the decode makes them
    return decode_stage(r, t_vae, decode_chunks(true, vae.tiling, vae.spatial_factor, lh, lw, hunyuan_vae_windows(vae, lf)),
                        [&](const vae_progress &prog) { return hunyuan_decode_latents(vae, be, in.latents, in.latent_shape, video, prog); });
}

// "1.23 GiB", or MiB under one GiB
std::string size_str(size_t b) {
    char s[32];
    if (b >= ((size_t)1 << 30)) snprintf(s, sizeof s, "%.2f GiB", b / 1073741824.0);
    else snprintf(s, sizeof s, "%.1f MiB", b / 1048576.0);
    return s;
}

// The memory plan for p (svg_model_memory_plan): per stage, where its
// components run and their weights against the budget; the text encoders
// go to the CPU when they do not fit, Wan's VAE decodes in tiles under a
// budget asked for below 24 GiB. Components are loaded one stage at a time
// (and Llama before CLIP), so a stage needs its largest component, plus
// activations the plan does not estimate yet. False with an error when a
// stage's weights alone do not fit.
bool plan_memory(svg_model *m, const svg_gen_params *p) {
    const size_t budget = m->vram_budget;
    const std::string where = budget ? "the GPU" : "the CPU";
    std::string plan = budget ? "VRAM budget " + size_str(budget) + "\n"
                              : m->vram_budget_asked > 0 ? "no VRAM budget on the CPU backend (--vram-budget is for CUDA)\n" : "";
    auto fits = [&](size_t bytes) { return !budget || bytes < budget; };
    auto too_big = [&](const char *what, size_t bytes, const char *advice) {
        return svg_err(false, "%s weights need %s, more than the VRAM budget of %s (weights are not streamed yet)%s", what,
                       size_str(bytes).c_str(), size_str(budget).c_str(), advice);
    };
    size_t te = svg_component_bytes(m->f, "text_encoder");
    if (m->arch == "hunyuan") te = std::max(te, svg_component_bytes(m->f, "text_encoder_2"));
    m->te_on_cpu = m->te_on_cpu_asked || !fits(te);
    plan += std::string(m->arch == "hunyuan" ? "text encoders (Llama, then CLIP): " : "text encoder: ") + size_str(te) + " of weights on " +
            (m->te_on_cpu ? "the CPU" : where) + (m->te_on_cpu && !m->te_on_cpu_asked ? " (they do not fit the budget)" : "") + "\n";
    if (p && p->image && m->arch == "wan") {
        const size_t ie = svg_component_bytes(m->f, "image_encoder");
        if (!fits(ie)) return too_big("the image encoder's", ie, "");
        plan += "image encoder: " + size_str(ie) + " of weights on " + where + "\n";
    }
    const size_t tr = svg_component_bytes(m->f, "transformer");
    if (!fits(tr)) return too_big("the transformer's", tr, ": convert with a smaller type (svg-convert --type q4_K_m) or raise --vram-budget");
    plan += "denoise: transformer " + size_str(tr) + " of weights on " + where +
            (budget ? ", " + size_str(budget - tr) + " left for activations" : "") + "\n";
    const size_t vae = svg_component_bytes(m->f, "vae");
    if (!fits(vae)) return too_big("the VAE's", vae, "");
    // an untiled Wan decode holds whole frames' activations (several GiB at 480p)
    if (m->arch == "wan" && m->vram_budget_asked > 0 && budget < ((size_t)24 << 30)) m->vae_tiling = true;
    const bool tiled = m->arch != "wan" || m->vae_tiling;
    plan += "decode: VAE " + size_str(vae) + " of weights on " + where + (tiled ? ", in tiles" : ", whole frames") + "\n";
    m->plan = plan;
    return true;
}

}  // namespace

extern "C" {

const char *svg_model_memory_plan(svg_model *m, const svg_gen_params *p) {
    if (!m) return svg_err<const char *>(nullptr, "svg_model_memory_plan: no model");
    return plan_memory(m, p) ? m->plan.c_str() : nullptr;
}

bool svg_generate(svg_model *m, const svg_gen_params *p, uint8_t *frames, size_t frames_size, svg_progress_cb cb, void *user) {
    if (!m || !p) return svg_err(false, "svg_generate: no model or parameters");
    const double t0 = now();
    m->stats = svg_gen_stats{};
    m->sparse_stats.clear();
    // ---- every check before any stage runs
    const size_t need = svg_gen_output_size(p);
    if (!need) return false;
    if (!frames || frames_size < need)
        return svg_err(false, "frame buffer too small: %zu bytes for %d frames of %dx%d RGB (%zu bytes)", frames ? frames_size : 0, p->frames,
                       p->width, p->height, need);
    if (!p->prompt) return svg_err(false, "no prompt");
    if (p->steps < 1) return svg_err(false, "steps must be at least 1, got %d", p->steps);
    if (!(p->cfg >= 0) || !(p->shift > 0)) return svg_err(false, "cfg must be >= 0 and shift > 0, got %g and %g", p->cfg, p->shift);
    if ((p->height / 8) % m->patch_h || (p->width / 8) % m->patch_w) return svg_err(false, "height/width do not fit the transformer's patch size");
    const bool i2v = p->image != nullptr;
    if (i2v && (p->image_width < 1 || p->image_height < 1)) return svg_err(false, "image size %dx%d", p->image_width, p->image_height);
    // Wan's I2V encodes the image with CLIP besides the VAE
    if (i2v && m->arch == "wan" && !m->has_image_encoder)
        return svg_err(false, "model file lacks: image_encoder (convert the pipeline folder, or add --image-encoder)");
    if (!i2v && m->i2v) return svg_err(false, "this is an image-to-video model: give a first-frame image");
    if (i2v && !m->i2v) return svg_err(false, "a first-frame image was given, but this is a text-to-video model");
    if (!plan_memory(m, p)) return false;
    progress_hook hook{cb, user};
    run r{m, p, hook, m->stats};
    vae_tensor video;
    const bool ok = m->arch == "cogvideox" ? generate_cogvideox(r, &video) : m->arch == "hunyuan" ? generate_hunyuan(r, &video) : generate_wan(r, &video);
    if (!ok) return false;

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
    m->stats.peak_device_bytes = svg_backend_cuda_peak_memory(m->be);
    m->stats.total_s = now() - t0;
    return true;
}

}  // extern "C"
