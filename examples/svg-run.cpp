// svg-run: prompt → video with Wan 2.1.
//
//   svg-run model.gguf "a cat surfing a wave" [-o out.avi] [options]
//
// A thin CLI over svg.h's embedding API (models/svg-api.cpp runs the
// pipeline: tokenize + umT5 encode → seeded noise → denoise → VAE decode);
// this file parses options, reads the --image file, draws the progress bar
// and writes the video file.
#include <sys/resource.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "src/image.h"
#include "src/video.h"
#include "svg.h"

namespace {

struct options {
    std::string model, prompt, out = "out.avi", negative, image;
    bool has_negative = false;  // else the API's default (the release's)
    // 0 (cfg, shift: negative / 0): the model's defaults from its metadata
    int width = 0, height = 0, frames = 0, steps = 0, fps = 0, threads = 0;
    float cfg = -1.f, embedded_cfg = -1.f, shift = 0.0f;
    double vram_budget = 0;  // GiB; 0: the card's free memory
    uint64_t seed = 42;
    std::string sampler, backend = "auto", dtype, text_encoder_device;
    bool quiet = false, verbose = false, json = false, vae_tiling = false, compare_dense = false, svg_stats = false;
    // Sparse VideoGen (negative: the API's defaults)
    int svg = -1, svg_rows = -1;
    float svg_density = -1.f, svg_dense_steps = -1.f, svg_dense_layers = -1.f;
};

const char *k_usage =
    "usage: svg-run MODEL.gguf \"prompt\" [options]\n"
    "  -o, --output PATH      .avi (default out.avi), .mp4/.webm (needs ffmpeg), or a folder for PNG frames\n"
    "      --negative TEXT    negative prompt (default: the release's; CogVideoX, HunyuanVideo: none)\n"
    "      --width W --height H --frames N   video size (multiples of 16; N = 4k+1, CogVideoX 1.5: 8k+1);\n"
    "                         default: the model's, 832x480x81 for Wan 2.1 (its 14B also makes 1280x720),\n"
    "                         1360x768x81 for CogVideoX 1.5, 1280x720x129 for HunyuanVideo\n"
    "      --steps N          denoising steps (default: the model's, 50)\n"
    "      --cfg G            classifier-free guidance (default: the model's, 5.0 Wan, 6.0 CogVideoX,\n"
    "                         1 HunyuanVideo; ≤ 1 disables; HunyuanVideo: true CFG with --negative)\n"
    "      --embedded-cfg G   guidance the transformer embeds, HunyuanVideo (default 6.0)\n"
    "      --shift S          flow shift, Wan and HunyuanVideo (default: the model's scheduler)\n"
    "      --sampler NAME     unipc|euler (Wan), ddim|dpm (CogVideoX), euler (HunyuanVideo); default: the model's\n"
    "      --seed N           noise seed (default 42; same video on every backend)\n"
    "      --image PNG        first frame (I2V models)\n"
    "      --backend auto|cuda|cpu  (default auto: CUDA when a device is present, else the CPU;\n"
    "                         cuda without a device is an error)\n"
    "      --dtype bf16|f16|f32  activations on CUDA (default bf16; the CPU computes in f32)\n"
    "      --text-encoder-device cpu   run the text encoder on the CPU\n"
    "      --vae-tiling       decode in spatial tiles (less memory)\n"
    "      --vram-budget GiB  device memory the run may hold (default: the card's free memory); each stage is\n"
    "                         planned against it before any work (-v prints the plan)\n"
    "      --svg / --no-svg   Sparse VideoGen attention (default: the model's, on for every family)\n"
    "      --svg-density D    share of attention computed (default 0.3)\n"
    "      --svg-rows N       query rows profiled per head (default 64)\n"
    "      --svg-dense-steps F / --svg-dense-layers F   shares of steps / layers kept dense\n"
    "                         (default: the model's; Wan 0.25 / 0.025, from 1280x720 0.2 / 0.03;\n"
    "                         CogVideoX 0.25 / 0)\n"
    "      --svg-stats        print per layer the spatial / temporal head split and the density computed\n"
    "      --compare-dense    render the same seed dense and with Sparse VideoGen: PSNR, SSIM, both times\n"
    "                         (writes the Sparse VideoGen video)\n"
    "  -t, --threads N        CPU threads\n"
    "      --fps N            frames per second of the file (default: the model's, 16)\n"
    "  -q, --quiet            no progress output\n"
    "  -v, --verbose          print the memory plan\n"
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
        else if (a == "--negative") ok = val(&o->negative), o->has_negative = true;
        else if (a == "--image") ok = val(&o->image);
        else if (a == "--width") ok = num(&o->width, 16, 16384);
        else if (a == "--height") ok = num(&o->height, 16, 16384);
        else if (a == "--frames") ok = num(&o->frames, 1, 4097);
        else if (a == "--steps") ok = num(&o->steps, 1, 1000);
        else if (a == "--cfg") ok = num(&o->cfg, 0, 100);
        else if (a == "--embedded-cfg") ok = num(&o->embedded_cfg, 0, 100);
        else if (a == "--shift") ok = num(&o->shift, 0.01, 100);
        else if (a == "--seed") ok = num(&o->seed, 0, 1.8e19);
        else if (a == "--fps") ok = num(&o->fps, 1, 240);
        else if (a == "-t" || a == "--threads") ok = num(&o->threads, 1, 1024);
        else if (a == "--sampler") ok = val(&o->sampler);
        else if (a == "--backend") ok = val(&o->backend);
        else if (a == "--dtype") ok = val(&o->dtype);
        else if (a == "--text-encoder-device") ok = val(&o->text_encoder_device);
        else if (a == "--vae-tiling") o->vae_tiling = true;
        else if (a == "--vram-budget") ok = num(&o->vram_budget, 0.01, 1e5);
        else if (a == "-v" || a == "--verbose") o->verbose = true;
        else if (a == "--compare-dense") o->compare_dense = true;
        else if (a == "--svg-stats") o->svg_stats = true;
        else if (a == "--svg") o->svg = 1;
        else if (a == "--no-svg") o->svg = 0;
        else if (a == "--svg-density") ok = num(&o->svg_density, 1e-6, 1);
        else if (a == "--svg-rows") ok = num(&o->svg_rows, 1, 65536);
        else if (a == "--svg-dense-steps") ok = num(&o->svg_dense_steps, 0, 1);
        else if (a == "--svg-dense-layers") ok = num(&o->svg_dense_layers, 0, 1);
        else if (a == "-q" || a == "--quiet") o->quiet = true;
        else if (a == "--json") o->json = true;
        else if (a.size() > 1 && a[0] == '-') return *err = "unknown option " + a, false;
        else pos.push_back(a);
        if (!ok) return false;
    }
    if (pos.size() != 2) return *err = "expected MODEL.gguf and a prompt", false;
    o->model = pos[0];
    o->prompt = pos[1];
    if (o->width % 16) return *err = "--width " + std::to_string(o->width) + " is not a multiple of 16", false;
    if (o->height % 16) return *err = "--height " + std::to_string(o->height) + " is not a multiple of 16", false;
    if (o->frames && (o->frames - 1) % 4) return *err = "frames must be 4k+1 (e.g. 81), got " + std::to_string(o->frames), false;
    if (!o->sampler.empty() && o->sampler != "unipc" && o->sampler != "euler" && o->sampler != "ddim" && o->sampler != "dpm")
        return *err = "--sampler must be unipc, euler, ddim or dpm, not '" + o->sampler + "'", false;
    if (o->backend != "auto" && o->backend != "cuda" && o->backend != "cpu") return *err = "--backend must be auto, cuda or cpu, not '" + o->backend + "'", false;
    if (!o->text_encoder_device.empty() && o->text_encoder_device != "cpu") return *err = "--text-encoder-device takes cpu", false;
    return true;
}

double now() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

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

// svg_generate's progress callback: a line per finished encoding stage, the
// bar while denoising.
struct progress_state {
    const options *o;
    const svg_model *m;
    progress_bar bar{true};
};

bool on_progress(enum svg_stage stage, int step, int total, void *user) {
    progress_state &ps = *(progress_state *)user;
    const svg_gen_stats &st = *svg_model_stats(ps.m);
    if (ps.o->quiet) return true;
    if (stage == SVG_STAGE_TEXT_ENCODE && step == total)
        fprintf(stderr, "  text: %d prompt tokens, %d negative tokens (%.2f s)\n", st.prompt_tokens, st.negative_tokens, st.text_encode_s);
    else if (stage == SVG_STAGE_IMAGE_ENCODE && step == total)
        if (st.image_tokens > 0)
            fprintf(stderr, "  image: %s → %d CLIP tokens, first-frame condition (%.2f s)\n", ps.o->image.c_str(), st.image_tokens,
                    st.image_encode_s);
        else
            fprintf(stderr, "  image: %s → first-frame latents (%.2f s)\n", ps.o->image.c_str(), st.image_encode_s);
    else if (stage == SVG_STAGE_DENOISE && step == 0)
        ps.bar = progress_bar{false};  // the clock starts once the transformer is loaded
    else if (stage == SVG_STAGE_DENOISE)
        ps.bar(step, total);
    return true;
}

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
    svg_model_params mp = svg_model_default_params();
    mp.backend = o.backend.c_str();  // auto falls back to the CPU without a device; cuda does not
    mp.dtype = o.dtype.empty() ? nullptr : o.dtype.c_str();
    mp.n_threads = o.threads;
    mp.text_encoder_device = o.text_encoder_device.empty() ? nullptr : o.text_encoder_device.c_str();
    mp.vae_tiling = o.vae_tiling;
    mp.vram_budget_gib = o.vram_budget;
    std::unique_ptr<svg_model, decltype(&svg_model_free)> m(svg_model_load(o.model.c_str(), &mp), svg_model_free);
    if (!m) return fail(svg_last_error());
    if (o.backend == "auto" && svg_cuda_device_count() == 0 && !o.quiet) fprintf(stderr, "svg-run: no CUDA device, running on the CPU\n");

    svg_gen_params p = svg_gen_default_params(m.get());
    p.prompt = o.prompt.c_str();
    if (o.has_negative) p.negative_prompt = o.negative.c_str();
    if (o.width) p.width = o.width;
    if (o.height) p.height = o.height;
    if (o.frames) p.frames = o.frames;
    if (o.steps) p.steps = o.steps;
    if (o.cfg >= 0.f) p.cfg = o.cfg;
    if (o.embedded_cfg >= 0.f) p.embedded_cfg = o.embedded_cfg;
    if (o.fps) p.fps = o.fps;
    p.svg_stats = o.svg_stats;
    if (o.shift != 0.0f) p.shift = o.shift;
    if (o.sampler == "unipc") p.sampler = SVG_SAMPLER_UNIPC;
    if (o.sampler == "euler") p.sampler = SVG_SAMPLER_EULER;
    if (o.sampler == "ddim") p.sampler = SVG_SAMPLER_DDIM;
    if (o.sampler == "dpm") p.sampler = SVG_SAMPLER_DPM;
    p.seed = o.seed;
    if (o.svg >= 0) p.svg = o.svg != 0;
    if (o.svg_density > 0.f) p.svg_density = o.svg_density;
    if (o.svg_rows > 0) p.svg_rows = o.svg_rows;
    if (o.svg_dense_steps >= 0.f) p.svg_dense_steps = o.svg_dense_steps;
    if (o.svg_dense_layers >= 0.f) p.svg_dense_layers = o.svg_dense_layers;
    svg_image img;
    if (!o.image.empty()) {
        if (!svg_image_load(o.image.c_str(), &img)) return fail(std::string("--image: ") + svg_last_error());
        p.image = img.rgb.data();
        p.image_width = img.width;
        p.image_height = img.height;
    } else if (svg_model_is_i2v(m.get())) {
        return fail("this is an image-to-video model: give --image first_frame.png");
    }
    if (!o.quiet) fprintf(stderr, "svg-run: %s on %s, %dx%d, %d frames, %d steps, cfg %.1f, seed %llu\n", o.model.c_str(),
                          svg_model_backend_description(m.get()), p.width, p.height, p.frames, p.steps, p.cfg, (unsigned long long)p.seed);

    std::vector<uint8_t> rgb(svg_gen_output_size(&p));
    progress_state ps{&o, m.get()};
    if (rgb.empty()) return fail(svg_last_error());
    // the plan svg_generate checks again: a budget it cannot meet fails here, before any work
    const char *plan = svg_model_memory_plan(m.get(), &p);
    if (!plan) return fail(svg_last_error());
    if (o.verbose && !o.quiet) fprintf(stderr, "svg-run: memory plan\n%s", plan);
    // --compare-dense: the dense render first (same seed), then the sparse one
    std::vector<uint8_t> dense_rgb;
    svg_gen_stats dense_st{};
    if (o.compare_dense) {
        svg_gen_params pd = p;
        pd.svg = false;
        p.svg = true;
        dense_rgb.resize(rgb.size());
        if (!o.quiet) fprintf(stderr, "svg-run: dense render\n");
        if (!svg_generate(m.get(), &pd, dense_rgb.data(), dense_rgb.size(), on_progress, &ps)) return fail(svg_last_error());
        dense_st = *svg_model_stats(m.get());
        if (!o.quiet) fprintf(stderr, "svg-run: Sparse VideoGen render\n");
    }
    if (!svg_generate(m.get(), &p, rgb.data(), rgb.size(), on_progress, &ps)) return fail(svg_last_error());
    const svg_gen_stats &st = *svg_model_stats(m.get());
    double psnr = 0, ssim = 0;
    if (o.compare_dense) {
        psnr = svg_psnr(dense_rgb.data(), rgb.data(), rgb.size());
        ssim = svg_ssim(dense_rgb.data(), rgb.data(), p.frames, p.height, p.width);
        if (!o.quiet)
            fprintf(stderr, "svg-run: Sparse VideoGen vs dense: PSNR %.2f dB, SSIM %.4f; denoise %.2f s vs %.2f s dense (%.2fx)\n", psnr,
                    ssim, st.denoise_s, dense_st.denoise_s, st.denoise_s > 0 ? dense_st.denoise_s / st.denoise_s : 0.0);
    }

    // --svg-stats: per layer, the heads' split and the share of pairs computed
    const svg_sparse_layer_stats *ls = nullptr;
    const int n_layers = o.svg_stats ? svg_model_sparse_stats(m.get(), &ls) : 0;
    double overall = 0;
    for (int i = 0; i < n_layers; i++) overall += ls[i].density / n_layers;
    if (o.svg_stats && !p.svg) fprintf(stderr, "svg-run: --svg-stats: Sparse VideoGen is off (--no-svg), nothing to report\n");
    if (n_layers > 0) {
        fprintf(stderr, "svg-run: Sparse VideoGen per layer (heads decided over all sparse forwards)\n  layer  spatial  temporal  density\n");
        for (int i = 0; i < n_layers; i++) {
            const int64_t n = ls[i].spatial + ls[i].temporal;
            if (n == 0) fprintf(stderr, "  %5d        -         -    %.3f  (dense)\n", i, ls[i].density);
            else fprintf(stderr, "  %5d   %5.1f%%    %5.1f%%    %.3f\n", i, 100.0 * ls[i].spatial / n, 100.0 * ls[i].temporal / n, ls[i].density);
        }
        fprintf(stderr, "  attention density over all layers and steps: %.3f\n", overall);
    }

    const int F = p.frames, H = p.height, W = p.width;
    if (!svg_video_write(o.out, rgb.data(), F, H, W, p.fps)) return fail(svg_last_error());
    const double total = now() - t0;
    const double peak_gib = st.peak_device_bytes / 1073741824.0;
    // the process's peak resident set (weights are mapped: what was read of them counts)
    struct rusage ru {};
    getrusage(RUSAGE_SELF, &ru);
    const double host_gib = (double)ru.ru_maxrss * 1024.0 / 1073741824.0;
    if (o.json) {
        std::string extra;
        char buf[256];
        if (o.compare_dense) {
            char db[32] = "null";  // identical videos: infinite PSNR, which JSON cannot hold
            if (std::isfinite(psnr)) snprintf(db, sizeof db, "%.4f", psnr);
            snprintf(buf, sizeof buf, ", \"compare_dense\": {\"psnr_db\": %s, \"ssim\": %.6f, \"dense_denoise_s\": %.3f}", db, ssim,
                     dense_st.denoise_s);
            extra += buf;
        }
        if (n_layers > 0) {
            snprintf(buf, sizeof buf, ", \"svg_density\": %.6f, \"svg_layers\": [", overall);
            extra += buf;
            for (int i = 0; i < n_layers; i++) {
                snprintf(buf, sizeof buf, "%s{\"spatial\": %lld, \"temporal\": %lld, \"density\": %.6f}", i ? ", " : "",
                         (long long)ls[i].spatial, (long long)ls[i].temporal, ls[i].density);
                extra += buf;
            }
            extra += "]";
        }
        printf("{\"output\": \"%s\", \"width\": %d, \"height\": %d, \"frames\": %d, \"steps\": %d, \"seed\": %llu, \"backend\": \"%s\", "
               "\"device\": \"%s\", \"svg\": %s, \"text_encode_s\": %.3f, \"image_encode_s\": %.3f, \"denoise_s\": %.3f, \"decode_s\": %.3f, \"total_s\": %.3f, "
               "\"peak_device_gib\": %.3f, \"peak_host_gib\": %.3f%s}\n",
               o.out.c_str(), W, H, F, p.steps, (unsigned long long)p.seed, svg_model_backend_name(m.get()),
               svg_model_backend_description(m.get()), p.svg ? "true" : "false",
               st.text_encode_s, st.image_encode_s, st.denoise_s, st.decode_s, total, peak_gib, host_gib, extra.c_str());
    }
    if (!o.quiet)
        fprintf(stderr, "svg-run: wrote %s (%d frames %dx%d) — text %.2f s, denoise %.2f s (%.2f s/step), decode %.2f s, total %.2f s, "
                "peak device memory %.2f GiB, peak host RSS %.2f GiB\n",
                o.out.c_str(), F, W, H, st.text_encode_s, st.denoise_s, st.denoise_s / p.steps, st.decode_s, total, peak_gib, host_gib);
    return 0;
}
