// svg-run: prompt → video with Wan 2.1.
//
//   svg-run model.gguf "a cat surfing a wave" [-o out.avi] [options]
//
// Stages: tokenize + umT5 encode (prompt and negative prompt) → seeded noise
// → denoise (transformer + CFG + sampler) → VAE decode → video file. Each
// component is loaded just before its stage and freed after it, so the peak
// is the largest component plus its activations.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "models/wan-pipeline.h"
#include "models/clip-vision.h"
#include "models/wan-vae.h"
#include "src/image.h"
#include "src/video.h"
#include "svg.h"

namespace {

// The Wan 2.1 release's default negative prompt.
const char *k_default_negative =
    "色调艳丽，过曝，静态，细节模糊不清，字幕，风格，作品，画作，画面，静止，整体发灰，最差质量，低质量，JPEG压缩残留，丑陋的，残缺的，多余的手指，"
    "画得不好的手部，画得不好的脸部，畸形的，毁容的，形态畸形的肢体，手指融合，静止不动的画面，杂乱的背景，三条腿，背景人很多，倒着走";

struct options {
    std::string model, prompt, out = "out.avi", negative = k_default_negative, image;
    int width = 832, height = 480, frames = 81, steps = 50, fps = 16, threads = 0;
    float cfg = 5.0f, shift = 0.0f;  // shift 0: the model's scheduler default, else 3.0
    uint64_t seed = 42;
    std::string sampler = "unipc", backend = "cuda", dtype, text_encoder_device;
    bool quiet = false, json = false, vae_tiling = false;
};

const char *k_usage =
    "usage: svg-run MODEL.gguf \"prompt\" [options]\n"
    "  -o, --output PATH      .avi (default out.avi), .mp4/.webm (needs ffmpeg), or a folder for PNG frames\n"
    "      --negative TEXT    negative prompt (default: the release's)\n"
    "      --width W --height H --frames N   video size (multiples of 16; N = 4k+1); default 832x480x81\n"
    "      --steps N          denoising steps (default 50)\n"
    "      --cfg G            classifier-free guidance (default 5.0; ≤ 1 disables)\n"
    "      --shift S          flow shift (default: the model's scheduler, else 3.0)\n"
    "      --sampler unipc|euler\n"
    "      --seed N           noise seed (default 42; same video on every backend)\n"
    "      --image PNG        first frame (I2V models)\n"
    "      --backend cuda|cpu (default cuda when available)\n"
    "      --dtype bf16|f16|f32  activations on CUDA (default bf16; the CPU computes in f32)\n"
    "      --text-encoder-device cpu   run the text encoder on the CPU\n"
    "      --vae-tiling       decode in spatial tiles (less memory)\n"
    "  -t, --threads N        CPU threads\n"
    "      --fps N            frames per second of the file (default 16)\n"
    "  -q, --quiet            no progress output\n"
    "      --json             print the summary as JSON on stdout\n";

int fail(const std::string &msg) {
    fprintf(stderr, "svg-run: %s\n", msg.c_str());
    return 1;
}

bool parse(int argc, char **argv, options *o, std::string *err) {
    std::vector<std::string> pos;
    for (int i = 1; i < argc; i++) {
        const std::string a = argv[i];
        auto val = [&](std::string *v) {
            if (i + 1 >= argc) return *err = a + " needs a value", false;
            *v = argv[++i];
            return true;
        };
        auto num = [&](auto *v, double lo, double hi) {
            std::string s;
            if (!val(&s)) return false;
            char *end = nullptr;
            const double d = strtod(s.c_str(), &end);
            if (s.empty() || *end || !(d >= lo && d <= hi)) return *err = "bad value '" + s + "' for " + a, false;
            *v = (std::remove_pointer_t<decltype(v)>)d;
            return true;
        };
        bool ok = true;
        if (a == "-h" || a == "--help") return *err = "", false;
        else if (a == "-o" || a == "--output") ok = val(&o->out);
        else if (a == "--negative") ok = val(&o->negative);
        else if (a == "--image") ok = val(&o->image);
        else if (a == "--width") ok = num(&o->width, 16, 16384);
        else if (a == "--height") ok = num(&o->height, 16, 16384);
        else if (a == "--frames") ok = num(&o->frames, 1, 4097);
        else if (a == "--steps") ok = num(&o->steps, 1, 1000);
        else if (a == "--cfg") ok = num(&o->cfg, 0, 100);
        else if (a == "--shift") ok = num(&o->shift, 0.01, 100);
        else if (a == "--seed") ok = num(&o->seed, 0, 1.8e19);
        else if (a == "--fps") ok = num(&o->fps, 1, 240);
        else if (a == "-t" || a == "--threads") ok = num(&o->threads, 1, 1024);
        else if (a == "--sampler") ok = val(&o->sampler);
        else if (a == "--backend") ok = val(&o->backend);
        else if (a == "--dtype") ok = val(&o->dtype);
        else if (a == "--text-encoder-device") ok = val(&o->text_encoder_device);
        else if (a == "--vae-tiling") o->vae_tiling = true;
        else if (a == "-q" || a == "--quiet") o->quiet = true;
        else if (a == "--json") o->json = true;
        else if (a.size() > 1 && a[0] == '-') return *err = "unknown option " + a, false;
        else pos.push_back(a);
        if (!ok) return false;
    }
    if (pos.size() != 2) return *err = "expected MODEL.gguf and a prompt", false;
    o->model = pos[0];
    o->prompt = pos[1];
    if (o->width % 16 || o->height % 16) return *err = "width and height must be multiples of 16, got " + std::to_string(o->width) + "x" + std::to_string(o->height), false;
    if ((o->frames - 1) % 4) return *err = "frames must be 4k+1 (e.g. 81), got " + std::to_string(o->frames), false;
    if (o->sampler != "unipc" && o->sampler != "euler") return *err = "sampler must be unipc or euler", false;
    if (o->backend != "cuda" && o->backend != "cpu") return *err = "backend must be cuda or cpu", false;
    if (!o->text_encoder_device.empty() && o->text_encoder_device != "cpu") return *err = "--text-encoder-device takes cpu", false;
    return true;
}

double now() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

// Seeded standard normal noise, generated on the CPU so every backend starts
// from the same latents: mt19937_64 + Box–Muller in double.
std::vector<float> noise(size_t n, uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::vector<float> v(n);
    for (size_t i = 0; i < n; i += 2) {
        const double u1 = ((rng() >> 11) + 1.0) * 0x1.0p-53, u2 = (rng() >> 11) * 0x1.0p-53;
        const double r = std::sqrt(-2.0 * std::log(u1));
        v[i] = (float)(r * std::cos(2 * M_PI * u2));
        if (i + 1 < n) v[i + 1] = (float)(r * std::sin(2 * M_PI * u2));
    }
    return v;
}

struct progress_bar {
    bool quiet;
    double start = now();
    void operator()(int done, int total) const {
        if (quiet) return;
        const double el = now() - start, per = el / done, eta = per * (total - done);
        const int w = 30, fill = w * done / total;
        fprintf(stderr, "\r  denoise [%.*s%*s] %d/%d  %.2f s/step  ETA %.0f s ", fill, "##############################", w - fill, "", done,
                total, per, eta);
        if (done == total) fprintf(stderr, "\n");
    }
};

}  // namespace

int main(int argc, char **argv) {
    options o;
    std::string err;
    if (!parse(argc, argv, &o, &err)) {
        if (err.empty()) {
            fputs(k_usage, stdout);
            return 0;
        }
        fprintf(stderr, "svg-run: %s\n%s", err.c_str(), k_usage);
        return 2;
    }
    const double t0 = now();
    std::unique_ptr<svg_gguf, decltype(&svg_gguf_free)> f(svg_gguf_open(o.model.c_str()), svg_gguf_free);
    if (!f) return fail(svg_last_error());
    // every component the pipeline needs, listed at once when missing
    std::string missing;
    for (const char *c : {"transformer", "text_encoder", "vae"}) {
        svg_component_config cc;
        if (!svg_component_config_open(f.get(), c, &cc)) missing += std::string(missing.empty() ? "" : ", ") + c;
    }
    if (!o.image.empty()) {
        svg_component_config cc;
        if (!svg_component_config_open(f.get(), "image_encoder", &cc)) missing += std::string(missing.empty() ? "" : ", ") + "image_encoder";
    }
    if (svg_gguf_find_key(f.get(), "svg.tokenizer.model") < 0) missing += std::string(missing.empty() ? "" : ", ") + "tokenizer";
    if (!missing.empty()) return fail("model file lacks: " + missing + " (convert the pipeline folder, or add --text-encoder/--vae/--tokenizer)");

    if (o.shift == 0.0f) {
        double s = 3.0;
        svg_gguf_get_float(f.get(), "svg.scheduler.flow_shift", &s);
        o.shift = (float)s;
    }
    if (o.backend == "cuda" && svg_cuda_device_count() == 0) {
        if (!o.quiet) fprintf(stderr, "svg-run: no CUDA device, running on the CPU\n");
        o.backend = "cpu";
    }
    svg_backend *be = o.backend == "cuda" ? svg_backend_cuda_new(0) : svg_backend_cpu_new(o.threads);
    if (!be) return fail(svg_last_error());
    std::unique_ptr<svg_backend, decltype(&svg_backend_free)> be_guard(be, svg_backend_free);
    enum svg_type act = SVG_TYPE_F32;
    if (o.backend == "cuda") {
        const std::string d = o.dtype.empty() ? "bf16" : o.dtype;
        if (!svg_type_from_name(d.c_str(), &act) || (act != SVG_TYPE_BF16 && act != SVG_TYPE_F16 && act != SVG_TYPE_F32))
            return fail("--dtype must be bf16, f16 or f32");
    } else if (!o.dtype.empty() && o.dtype != "f32") {
        return fail("the CPU backend computes in f32 (drop --dtype or use f32)");
    }
    if (!o.quiet) fprintf(stderr, "svg-run: %s on %s, %dx%d, %d frames, %d steps, cfg %.1f, seed %llu\n", o.model.c_str(),
                          svg_backend_name(be), o.width, o.height, o.frames, o.steps, o.cfg, (unsigned long long)o.seed);

    // ---- text encoding
    const double t_text = now();
    wan_denoise_inputs in;
    {
        svg_tokenizer tok;
        const int64_t ti = svg_gguf_find_key(f.get(), "svg.tokenizer.model");
        const char *fmt = svg_gguf_get_string(f.get(), "svg.tokenizer.format");
        const void *bytes = svg_gguf_arr_data(f.get(), ti);
        const size_t n = (size_t)svg_gguf_arr_n(f.get(), ti);
        const bool tok_ok = fmt && std::string(fmt) == "hf_json" ? tok.load_hf_json(bytes, n) : tok.load_spm(bytes, n);
        if (!tok_ok) return fail(std::string("tokenizer: ") + svg_last_error());
        std::unique_ptr<svg_backend, decltype(&svg_backend_free)> te_cpu(
            o.text_encoder_device == "cpu" && o.backend != "cpu" ? svg_backend_cpu_new(o.threads) : nullptr, svg_backend_free);
        svg_backend *te_be = te_cpu ? te_cpu.get() : be;
        umt5_encoder te;
        if (!umt5_load(f.get(), te_be, &te)) return fail(svg_last_error());
        const int max_len = 512;
        int n_pos = 0, n_neg = 0;
        if (!wan_encode_prompt(tok, te, te_be, o.prompt, max_len, &in.cond, &n_pos)) return fail(svg_last_error());
        if (o.cfg > 1.0f && !wan_encode_prompt(tok, te, te_be, o.negative, max_len, &in.uncond, &n_neg)) return fail(svg_last_error());
        in.text_shape = {1, max_len, te.d_model};
        if (!o.quiet) fprintf(stderr, "  text: %d prompt tokens, %d negative tokens (%.2f s)\n", n_pos, n_neg, now() - t_text);
    }
    const double text_s = now() - t_text;

    // ---- I2V: CLIP tokens of the image, and the first-frame condition
    const double t_img = now();
    if (!o.image.empty()) {
        svg_image img;
        if (!svg_image_load(o.image.c_str(), &img)) return fail(std::string("--image: ") + svg_last_error());
        std::vector<float> pixels;
        if (!svg_image_clip_preprocess(img, svg_clip_image_config{}, &pixels)) return fail(svg_last_error());
        {
            clip_vision clip;
            if (!clip_vision_load(f.get(), be, &clip)) return fail(svg_last_error());
            svg_context *ctx = svg_context_new(true);
            svg_host_inputs host;
            const int64_t ne[4] = {1, 3, 224, 224};
            svg_tensor *y = clip_vision_forward(ctx, clip, host.add(ctx, 4, ne, pixels, "pixel_values"), &host);
            svg_gallocr *ga = svg_gallocr_new(be);
            const bool ok = y && svg_compute_to_host(be, ga, ctx, y, host, &in.image);
            if (ok) in.image_shape.assign(y->ne, y->ne + y->n_dims);
            svg_gallocr_free(ga);
            svg_context_free(ctx);
            if (!ok) return fail(svg_last_error());
        }
        std::vector<float> first;
        int w = 0, h = 0;
        if (!svg_image_vae_preprocess(img, o.width, o.height, 8, &first, &w, &h)) return fail(svg_last_error());
        wan_vae vae;
        if (!wan_vae_load(f.get(), be, &vae) || !wan_i2v_condition(vae, be, first, h, w, o.frames, &in.condition, &in.condition_shape))
            return fail(svg_last_error());
        if (!o.quiet) fprintf(stderr, "  image: %s → %lld CLIP tokens, first-frame condition (%.2f s)\n", o.image.c_str(),
                              (long long)in.image_shape[1], now() - t_img);
    }
    const double image_s = now() - t_img;

    // ---- denoising
    const double t_den = now();
    {
        wan_transformer m;
        if (!wan_transformer_load(f.get(), be, &m)) return fail(svg_last_error());
        const int64_t lf = (o.frames - 1) / 4 + 1, lh = o.height / 8, lw = o.width / 8;
        if (lh % m.patch[1] || lw % m.patch[2]) return fail("height/width do not fit the transformer's patch size");
        in.latent_shape = {1, 16, lf, lh, lw};
        const bool i2v = !o.image.empty();
        if (!i2v && m.has_image) return fail("this is an image-to-video model: give --image first_frame.png");
        if (i2v && !m.has_image) return fail("--image given, but this is a text-to-video model");
        in.latents = noise((size_t)(16 * lf * lh * lw), o.seed);
        wan_denoise_options d;
        d.steps = o.steps;
        d.guidance = o.cfg;
        d.shift = o.shift;
        d.sampler = o.sampler == "euler" ? svg_flow_sampler::EULER : svg_flow_sampler::UNIPC;
        d.act = act;
        d.progress = progress_bar{o.quiet};
        if (!wan_denoise(m, be, in, d)) return fail(svg_last_error());
    }
    const double denoise_s = now() - t_den;

    // ---- VAE decode
    const double t_vae = now();
    wan_vae_tensor video;
    {
        wan_vae vae;
        if (!wan_vae_load(f.get(), be, &vae)) return fail(svg_last_error());
        wan_vae_tensor z{in.latent_shape, in.latents};
        if (!wan_vae_denormalize(vae, &z)) return fail(svg_last_error());
        const bool ok = o.vae_tiling ? wan_vae_decode_tiled(vae, be, z, wan_vae_tiling{256, 256, 192, 192}, &video) : wan_vae_decode(vae, be, z, &video);
        if (!ok) return fail(svg_last_error());
    }
    const double vae_s = now() - t_vae;

    // ---- write: [1, 3, F, H, W] in [-1, 1] → [F, 3, H, W] in [0, 1]
    const int F = (int)video.shape[2], H = (int)video.shape[3], W = (int)video.shape[4];
    std::vector<float> frames((size_t)F * 3 * H * W);
    for (int c = 0; c < 3; c++)
        for (int t = 0; t < F; t++)
            for (size_t p = 0; p < (size_t)H * W; p++)
                frames[((size_t)t * 3 + c) * H * W + p] = video.data[((size_t)c * F + t) * H * W + p] * 0.5f + 0.5f;
    const std::vector<uint8_t> rgb = svg_video_to_rgb(frames.data(), F, H, W);
    if (!svg_video_write(o.out, rgb.data(), F, H, W, o.fps)) return fail(svg_last_error());
    const double total = now() - t0;
    const double peak_gib = svg_backend_cuda_peak_memory(be) / 1073741824.0;
    if (o.json) {
        printf("{\"output\": \"%s\", \"width\": %d, \"height\": %d, \"frames\": %d, \"steps\": %d, \"seed\": %llu, \"backend\": \"%s\", "
               "\"text_encode_s\": %.3f, \"image_encode_s\": %.3f, \"denoise_s\": %.3f, \"decode_s\": %.3f, \"total_s\": %.3f, \"peak_device_gib\": %.3f}\n",
               o.out.c_str(), W, H, F, o.steps, (unsigned long long)o.seed, svg_backend_name(be), text_s, image_s, denoise_s, vae_s, total, peak_gib);
    }
    if (!o.quiet)
        fprintf(stderr, "svg-run: wrote %s (%d frames %dx%d) — text %.2f s, denoise %.2f s (%.2f s/step), decode %.2f s, total %.2f s, peak device memory %.2f GiB\n",
                o.out.c_str(), F, W, H, text_s, denoise_s, denoise_s / o.steps, vae_s, total, peak_gib);
    return 0;
}
