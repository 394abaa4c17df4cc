// The prompt → video path: the reference pipeline's final video from its
// last latents (VAE de-normalization + decode + post-processing), and the
// svg-run command end to end on a tiny bundled model (output file, seeds,
// input validation). The video step also runs on the first CUDA device
// (WanPipelineCuda; the denoising loop's goldens on the GPU, per step and
// through to the video, are in test-sampler.cpp).
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "convert/convert.h"
#include "models/wan-vae.h"
#include "src/image.h"
#include "test-common.h"
#include "test-models.h"

namespace {

const std::string kData = SVG_TEST_DATA;
const std::string kBin = SVG_BIN_DIR;

std::string tmp(const std::string &n) { return "/tmp/svg-test-run-" + std::to_string(getpid()) + "-" + n; }

// (the three Wan goldens share one VAE: wan_vae/vae)
// latents after the last step → video, as WanPipeline: z / (1/std) + mean,
// decode, (x + 1) / 2 clamped — compared with the recorded [B, F, 3, H, W];
// on the CPU or (cuda) on the first CUDA device, the VAE in f32 on both
void check_video_from_reference_latents(bool cuda, const std::string &cse = "wan_t2v") {
    svg_convert_options opt;
    svg_convert_source src;
    src.path = kData + "/goldens/" + cse + "/transformer";
    svg_convert_source vae;
    vae.component = "vae";
    vae.path = kData + "/goldens/wan_vae/vae";
    opt.sources = {src, vae};
    opt.output = tmp("video.gguf");
    ASSERT_TRUE(svg_convert(opt)) << svg_last_error();
    svg_gguf *f = svg_gguf_open(opt.output.c_str());
    ASSERT_NE(f, nullptr);
    svg_backend *be = svgtest::new_backend(cuda);
    ASSERT_NE(be, nullptr) << svg_last_error();
    wan_vae m;
    ASSERT_TRUE(wan_vae_load(f, be, &m)) << svg_last_error();
    svg_safetensors *st = svg_safetensors_open((kData + "/goldens/" + cse + "/pipeline.safetensors").c_str());
    ASSERT_NE(st, nullptr);
    auto read = [&](const char *name, std::vector<int64_t> *shape) {
        const int64_t i = svg_safetensors_find(st, name);
        std::vector<float> v((size_t)svg_safetensors_nelements(st, i));
        svg_safetensors_read_f32(st, i, v.data(), (int64_t)v.size());
        int64_t ne[SVG_MAX_DIMS];
        svg_safetensors_shape(st, i, ne);
        shape->assign(ne, ne + svg_safetensors_n_dims(st, i));
        return v;
    };
    vae_tensor z, video;
    z.data = read("latents_step3", &z.shape);
    std::vector<int64_t> rshape;
    const std::vector<float> ref = read("video", &rshape);  // [1, F, 3, H, W]
    ASSERT_TRUE(wan_vae_denormalize(m, &z));
    ASSERT_TRUE(wan_vae_decode(m, be, z, &video)) << svg_last_error();
    ASSERT_EQ(video.shape.size(), 5u);
    const int64_t F = video.shape[2], H = video.shape[3], W = video.shape[4];
    ASSERT_EQ(rshape, (std::vector<int64_t>{1, F, 3, H, W}));
    const std::vector<float> got = svgtest::wan_pipeline_video(video.data, F, H, W);
    const double err = svgtest::rel_l2(got, ref);
    printf("%s%s video rel L2 %.2e\n", cuda ? "CUDA: " : "", cse.c_str(), err);
    EXPECT_LE(err, 1e-3);
    svg_safetensors_free(st);
    svg_backend_free(be);
    svg_gguf_free(f);
    unlink(opt.output.c_str());
}
TEST(WanPipeline, T2VVideoMatchesReference) { check_video_from_reference_latents(false); }
// I2V decodes its 16 latent channels the same way (the condition only enters the transformer)
TEST(WanPipeline, I2VVideoMatchesReference) { check_video_from_reference_latents(false, "wan_i2v"); }
// The same on the GPU: the pipeline's own tolerance, the VAE computing in f32
TEST(WanPipelineCuda, T2VVideoMatchesReference) {
    SVG_NEED_CUDA();
    check_video_from_reference_latents(true);
}
TEST(WanPipelineCuda, I2VVideoMatchesReference) {
    SVG_NEED_CUDA();
    check_video_from_reference_latents(true, "wan_i2v");
}

// A tiny complete model file: golden transformer, umT5, VAE, tokenizer.
class SvgRun : public ::testing::Test {
   protected:
    static std::string model;
    static void SetUpTestSuite() {
        model = tmp("tiny.gguf");
        ASSERT_TRUE(svgtest::convert_tiny_pipeline("wan_t2v", model)) << svg_last_error();
    }
    static void TearDownTestSuite() { unlink(model.c_str()); }
    // run svg-run with args; returns the exit status, stderr in *err
    int run(const std::string &args, std::string *err = nullptr) {
        const std::string log = tmp("log");
        const std::string cmd = kBin + "/svg-run " + args + " 2>" + log;
        const int rc = std::system(cmd.c_str());
        if (err) {
            std::ifstream f(log);
            err->assign((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
        }
        unlink(log.c_str());
        return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
    }
    static std::string slurp(const std::string &p) {
        std::ifstream f(p, std::ios::binary);
        return std::string((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    }
    const std::string small = " --width 32 --height 32 --frames 9 --steps 3 --backend cpu --negative 'bad' -q ";
};
std::string SvgRun::model;

TEST_F(SvgRun, WritesAVideoReproducibly) {
    const std::string a = tmp("a.avi"), b = tmp("b.avi"), c = tmp("c.avi");
    ASSERT_EQ(run(model + " 'a cat'" + small + "--seed 7 -o " + a), 0);
    ASSERT_EQ(run(model + " 'a cat'" + small + "--seed 7 -o " + b), 0);
    ASSERT_EQ(run(model + " 'a cat'" + small + "--seed 8 -o " + c), 0);
    const std::string fa = slurp(a), fb = slurp(b), fc = slurp(c);
    ASSERT_GT(fa.size(), 100u);
    EXPECT_EQ(fa.substr(0, 4), "RIFF");
    EXPECT_EQ(fa, fb) << "same seed, different video";
    EXPECT_NE(fa, fc) << "different seed, same video";
    // 9 frames: the AVI header's total-frames field
    EXPECT_EQ((unsigned char)fa[48], 9);
    for (auto &p : {a, b, c}) unlink(p.c_str());
}

// -v prints the memory plan (on the CPU: no VRAM budget to plan against)
TEST_F(SvgRun, VerbosePrintsTheMemoryPlan) {
    std::string err;
    const std::string out = tmp("v.avi");
    const std::string args = " --width 32 --height 32 --frames 9 --steps 1 --backend cpu --vram-budget 4 -v -o " + out;
    ASSERT_EQ(run(model + " 'a cat'" + args, &err), 0) << err;
    for (const char *want : {"memory plan", "no VRAM budget on the CPU backend", "text encoder: ", "denoise: transformer ", "decode: VAE "})
        EXPECT_NE(err.find(want), std::string::npos) << want << " in\n" << err;
    unlink(out.c_str());
}

TEST_F(SvgRun, JsonSummary) {
    const std::string out = tmp("j.avi"), js = tmp("j.json");
    ASSERT_EQ(std::system((kBin + "/svg-run " + model + " 'a cat'" + small + "--json -o " + out + " >" + js).c_str()), 0);
    const std::string s = slurp(js);
    EXPECT_NE(s.find("\"denoise_s\""), std::string::npos) << s;
    EXPECT_NE(s.find(out), std::string::npos) << s;
    unlink(out.c_str());
    unlink(js.c_str());
}

// --compare-dense: both renders, PSNR and SSIM in the JSON summary (a 64×64
// video: 3 × 4 × 4 patch tokens after the VAE, one 128-key block, so
// Sparse VideoGen computes everything and the two renders agree).
TEST_F(SvgRun, CompareDenseReportsQuality) {
    const std::string out = tmp("cmp.avi"), js = tmp("cmp.json");
    ASSERT_EQ(std::system((kBin + "/svg-run " + model + " 'a cat' --width 64 --height 64 --frames 9 --steps 2 --backend cpu -q "
                           "--svg-dense-steps 0 --compare-dense --json -o " + out + " >" + js).c_str()),
              0);
    const std::string s = slurp(js);
    EXPECT_NE(s.find("\"svg\": true"), std::string::npos) << s;
    const size_t at = s.find("\"ssim\": ");
    ASSERT_NE(at, std::string::npos) << s;
    EXPECT_GT(std::stod(s.substr(at + 8)), 0.999) << s;
    EXPECT_NE(s.find("\"psnr_db\": "), std::string::npos) << s;
    unlink(out.c_str());
    unlink(js.c_str());
}

// Sparse VideoGen is on for Wan by default (the file's svg.sparse.enabled);
// --no-svg turns it off. --svg-stats reports every layer's head decisions:
// with 3 steps, guidance (two forwards a step) and no dense step, each layer
// decided heads × 6 times; keeping the first of 3 steps dense
// (--svg-dense-steps 0.34) leaves heads × 4, and raises the density. At
// 128×128×17 the 5 × 64 patch tokens make a band narrower than the video.
struct layer_counts {
    std::vector<long long> total;
    std::vector<double> density;
};
layer_counts svg_layers(const std::string &json) {
    layer_counts c;
    for (size_t at = json.find("{\"spatial\": "); at != std::string::npos; at = json.find("{\"spatial\": ", at + 1)) {
        long long s = 0, t = 0;
        double d = 0;
        EXPECT_EQ(sscanf(json.c_str() + at, "{\"spatial\": %lld, \"temporal\": %lld, \"density\": %lf}", &s, &t, &d), 3) << json;
        c.total.push_back(s + t);
        c.density.push_back(d);
    }
    return c;
}
TEST_F(SvgRun, SparseVideoGenByDefaultWithStats) {
    const std::string out = tmp("s.avi"), js = tmp("s.json");
    auto summary = [&](const std::string &args) {
        EXPECT_EQ(std::system((kBin + "/svg-run " + model + " 'a cat'" + small + "--width 128 --height 128 --frames 17" + args +
                               " --json -o " + out + " >" + js).c_str()),
                  0);
        return slurp(js);
    };
    const std::string on = summary(" --svg-stats");
    EXPECT_NE(on.find("\"svg\": true"), std::string::npos) << on;
    const layer_counts all = svg_layers(on);
    ASSERT_FALSE(all.total.empty()) << on;
    const std::string warm = summary(" --svg-stats --svg-dense-steps 0.34");
    const layer_counts some = svg_layers(warm);
    ASSERT_EQ(some.total.size(), all.total.size()) << warm;
    for (size_t i = 0; i < all.total.size(); i++) {
        EXPECT_GT(all.total[i], 0) << "layer " << i;
        EXPECT_EQ(all.total[i] % 6, 0) << "layer " << i;
        EXPECT_EQ(all.total[i] / 6, some.total[i] / 4) << "layer " << i << ": heads per forward";
        EXPECT_GT(all.density[i], 0.0);
        EXPECT_LT(all.density[i], 1.0);
        EXPECT_GT(some.density[i], all.density[i]) << "a dense step computes more";
    }
    const std::string off = summary(" --no-svg --svg-stats");
    EXPECT_NE(off.find("\"svg\": false"), std::string::npos) << off;
    EXPECT_EQ(off.find("svg_layers"), std::string::npos) << off;
    unlink(out.c_str());
    unlink(js.c_str());
}

TEST_F(SvgRun, RejectsBadRequests) {
    std::string err;
    // the size asked for is the one reported, also when only one side is given
    EXPECT_EQ(run(model + " 'a cat' --width 100 --backend cpu", &err), 2);
    EXPECT_NE(err.find("--width 100 is not a multiple of 16"), std::string::npos) << err;
    EXPECT_EQ(err.find("x0"), std::string::npos) << err;
    EXPECT_EQ(run(model + " 'a cat' --height 200 --width 64 --backend cpu", &err), 2);
    EXPECT_NE(err.find("--height 200 is not a multiple of 16"), std::string::npos) << err;
    EXPECT_EQ(run(model + " 'a cat' --backend gpu", &err), 2);
    EXPECT_NE(err.find("auto, cuda or cpu"), std::string::npos) << err;
    EXPECT_EQ(run(model + " 'a cat' --frames 10 --backend cpu", &err), 2);
    EXPECT_NE(err.find("4k+1"), std::string::npos) << err;
    EXPECT_EQ(run("/nonexistent.gguf 'a cat' --backend cpu", &err), 1);
    EXPECT_NE(err.find("/nonexistent.gguf"), std::string::npos) << err;
    EXPECT_EQ(run(model + " 'a cat'" + small + "-o " + tmp("x.gif"), &err), 1);
    EXPECT_NE(err.find("unknown video format"), std::string::npos) << err;
    EXPECT_EQ(run(model + " 'a cat'" + small + "--vram-budget 0", &err), 2);
    EXPECT_NE(err.find("bad value '0' for --vram-budget"), std::string::npos) << err;
    // --image needs an image encoder in the file (and an I2V transformer)
    EXPECT_EQ(run(model + " 'a cat'" + small + "--image " + kData + "/goldens/clip_vision/image.png", &err), 1);
    EXPECT_NE(err.find("image_encoder"), std::string::npos) << err;
    // a transformer-only file: the missing components are named
    svg_convert_options opt;
    svg_convert_source t;
    t.path = kData + "/goldens/wan_t2v/transformer";
    opt.sources = {t};
    opt.output = tmp("dit.gguf");
    ASSERT_TRUE(svg_convert(opt));
    EXPECT_EQ(run(opt.output + " 'a cat'" + small, &err), 1);
    EXPECT_NE(err.find("text_encoder, vae, tokenizer"), std::string::npos) << err;
    unlink(opt.output.c_str());
}

// An explicit --backend cuda with no device is an error before any work;
// auto (the default) falls back to the CPU and says so.
TEST_F(SvgRun, BackendCudaWithoutDeviceIsAnError) {
    if (svg_cuda_device_count() > 0) GTEST_SKIP() << "a CUDA device is present: nothing to fall back from";
    std::string err;
    const std::string out = tmp("fallback.avi");
    EXPECT_EQ(run(model + " 'a cat'" + small + "--backend cuda -o " + out, &err), 1);
    EXPECT_NE(err.find("backend cuda was asked for"), std::string::npos) << err;
    EXPECT_NE(err.find("CUDA"), std::string::npos) << err;
    EXPECT_NE(access(out.c_str(), F_OK), 0) << "no video for a refused backend";
    const std::string auto_args = " --width 32 --height 32 --frames 5 --steps 1 --negative 'bad' ";
    EXPECT_EQ(run(model + " 'a cat'" + auto_args + "-o " + out, &err), 0) << err;
    EXPECT_NE(err.find("no CUDA device, running on the CPU"), std::string::npos) << err;
    EXPECT_EQ(access(out.c_str(), F_OK), 0);
    unlink(out.c_str());
}

// Image-to-video end to end, as a user runs it: the tiny I2V pipeline folder
// (tests/data/wan_i2v_pipeline, made by its make_golden.py with diffusers'
// WanImageToVideoPipeline) converted with svg-convert, then svg-run --image
// through the CLIP encoder, the VAE encoder's first-frame condition, the
// denoising loop with guidance and the VAE decode, into PNG frames. The
// reference video is quantized the way frames are written (round(255·x)),
// so only rounding flips of a near-tie remain.
// svg-convert the pipeline folder dir, svg-run it with the settings of its
// expected.safetensors (image: the first frame, or "" for T2V) and compare
// the frames with the reference video rounded to bytes as a PNG holds it.
void check_pipeline_golden(const std::string &dir, const std::string &image, const std::string &tag, const std::string &expected = "expected") {
    const std::string model = tmp(tag + ".gguf"), frames = tmp(tag + "-frames");
    ASSERT_EQ(std::system((kBin + "/svg-convert -q " + dir + " -o " + model).c_str()), 0);
    svg_safetensors *ref = svg_safetensors_open((dir + "/" + expected + ".safetensors").c_str());
    ASSERT_NE(ref, nullptr) << svg_last_error();
    auto meta = [&](const char *k) {
        const char *v = svg_safetensors_metadata(ref, k);
        return std::string(v ? v : "");
    };
    const int64_t vi = svg_safetensors_find(ref, "video");
    ASSERT_GE(vi, 0);
    int64_t shape[4];
    svg_safetensors_shape(ref, vi, shape);  // [F, H, W, 3]
    std::vector<float> video((size_t)svg_safetensors_nelements(ref, vi));
    ASSERT_TRUE(svg_safetensors_read_f32(ref, vi, video.data(), (int64_t)video.size()));
    const std::string cmd = kBin + "/svg-run " + model + " '" + meta("prompt") + "' --negative '" + meta("negative") + "'" +
                            (image.empty() ? "" : " --image " + image) + " --width " + meta("width") + " --height " + meta("height") +
                            " --frames " + meta("frames") + " --steps " + meta("steps") + " --cfg " + meta("cfg") + " --seed " +
                            meta("seed") + (meta("embedded_cfg").empty() ? "" : " --embedded-cfg " + meta("embedded_cfg")) +
                            " --no-svg --backend cpu -q -o " + frames + "/";
    svg_safetensors_free(ref);
    ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
    double se = 0, ss = 0;
    const int64_t F = shape[0], plane = shape[1] * shape[2] * 3;
    for (int64_t f = 0; f < F; f++) {
        char name[32];
        snprintf(name, sizeof name, "/frame_%05d.png", (int)f);
        svg_image img;
        ASSERT_TRUE(svg_image_load((frames + name).c_str(), &img)) << svg_last_error();
        ASSERT_EQ(img.width, shape[2]);
        ASSERT_EQ(img.height, shape[1]);
        for (int64_t i = 0; i < plane; i++) {
            const double r = std::lround(std::min(1.f, std::max(0.f, video[(size_t)(f * plane + i)])) * 255.f) / 255.0;
            const double d = img.rgb[(size_t)i] / 255.0 - r;
            se += d * d;
            ss += r * r;
        }
    }
    char extra[32];
    snprintf(extra, sizeof extra, "/frame_%05d.png", (int)F);
    EXPECT_FALSE(std::filesystem::exists(frames + extra)) << "more frames than the reference's " << F;
    const double rel = std::sqrt(se / ss);
    EXPECT_LE(rel, 1e-3) << "rel L2 of the video against the diffusers pipeline in " << dir;
    ::testing::Test::RecordProperty("rel_l2", std::to_string(rel));
    std::filesystem::remove_all(frames);
    unlink(model.c_str());
}

TEST(SvgRunI2V, MatchesTheDiffusersPipeline) {
    check_pipeline_golden(kData + "/wan_i2v_pipeline", kData + "/wan_i2v_pipeline/first_frame.png", "i2v");
}

// CogVideoX 1.5 through svg-run: T5 over 226 slots, DDIM with [uncond, cond]
// batched, 17 frames (5 latent frames padded to 6, the padding dropped
// before the decode), and for I2V the first frame's posterior latents.
TEST(SvgRunCogVideoX, TextToVideoMatchesTheDiffusersPipeline) {
    check_pipeline_golden(kData + "/cogvideox_pipeline/t2v", "", "cogvideox-t2v");
}

TEST(SvgRunCogVideoX, ImageToVideoMatchesTheDiffusersPipeline) {
    check_pipeline_golden(kData + "/cogvideox_pipeline/i2v", kData + "/cogvideox_pipeline/first_frame.png", "cogvideox-i2v");
}

// HunyuanVideo (tests/data/hunyuan_pipeline/make_golden.py): Llama with the
// prompt template and CLIP through their BPE tokenizers (CLIP's from slow
// vocab.json + merges.txt), embedded guidance alone, and with true CFG.
TEST(SvgRunHunyuan, TextToVideoMatchesTheDiffusersPipeline) {
    check_pipeline_golden(kData + "/hunyuan_pipeline/t2v", "", "hunyuan-t2v");
}
TEST(SvgRunHunyuan, TrueCfgMatchesTheDiffusersPipeline) {
    check_pipeline_golden(kData + "/hunyuan_pipeline/t2v", "", "hunyuan-t2v-cfg", "expected_cfg");
}

// Frames the CogVideoX 1.5 decode cannot make exactly are refused before any work.
TEST(SvgRunCogVideoX, RejectsFrameCountsItCannotMake) {
    const std::string model = tmp("cogvideox-frames.gguf"), out = tmp("cogvideox-frames.avi"), log = tmp("cogvideox-frames.log");
    ASSERT_EQ(std::system((kBin + "/svg-convert -q " + kData + "/cogvideox_pipeline/t2v -o " + model).c_str()), 0);
    const int rc = std::system((kBin + "/svg-run " + model + " 'a boat' --width 32 --height 32 --frames 13 --steps 1 --backend cpu -q -o " +
                                out + " 2>" + log).c_str());
    EXPECT_NE(rc, 0);
    std::ifstream f(log);
    const std::string msg((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    EXPECT_NE(msg.find("8k+1 frames"), std::string::npos) << msg;
    EXPECT_NE(msg.find("13 frames would decode to 16"), std::string::npos) << msg;
    EXPECT_FALSE(std::filesystem::exists(out));
    const int wrong = std::system((kBin + "/svg-run " + model + " 'a boat' --width 32 --height 32 --frames 17 --steps 1 --sampler unipc "
                                   "--backend cpu -q -o " + out + " 2>" + log).c_str());
    EXPECT_NE(wrong, 0);
    std::ifstream g(log);
    const std::string msg2((std::istreambuf_iterator<char>(g)), std::istreambuf_iterator<char>());
    EXPECT_NE(msg2.find("CogVideoX samplers are ddim and dpm"), std::string::npos) << msg2;
    unlink(model.c_str());
    unlink(log.c_str());
}

// End to end as a user checks a file: svg-run writes the video, ffprobe
// (Debian's ffmpeg) decodes every frame and reports codec, size and count.
// .avi always (Motion-JPEG); .mp4 too when ffmpeg is on PATH (H.264).
bool on_path(const char *tool) { return std::system(("command -v " + std::string(tool) + " >/dev/null 2>&1").c_str()) == 0; }

// ffprobe's JSON summary of the first video stream, or "" when it failed
std::string ffprobe(const std::string &path) {
    const std::string js = tmp("probe.json");
    const std::string cmd = "ffprobe -v error -select_streams v:0 -count_frames -show_entries "
                            "stream=codec_name,width,height,nb_read_frames -of json '" + path + "' >" + js;
    const int rc = std::system(cmd.c_str());
    std::ifstream f(js);
    std::string s((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    unlink(js.c_str());
    return rc == 0 ? s : "";
}

TEST_F(SvgRun, VideoFilesPlayInFfprobe) {
    if (!on_path("ffprobe")) GTEST_SKIP() << "ffprobe not on PATH (Debian: apt-get install ffmpeg; .ci/run installs it)";
    const std::string size = " --width 48 --height 32 --frames 9 --steps 2 --backend cpu --negative 'bad' -q ";
    std::vector<std::pair<std::string, std::string>> files = {{tmp("probe.avi"), "mjpeg"}};
    if (on_path("ffmpeg")) files.push_back({tmp("probe.mp4"), "h264"});
    for (const auto &[path, codec] : files) {
        std::string err;
        ASSERT_EQ(run(model + " 'a cat'" + size + "-o " + path, &err), 0) << err;
        const std::string js = ffprobe(path);
        ASSERT_FALSE(js.empty()) << "ffprobe could not read " << path;
        const nlohmann::json j = nlohmann::json::parse(js);
        ASSERT_EQ(j["streams"].size(), 1u) << js;
        const nlohmann::json &st = j["streams"][0];
        EXPECT_EQ(st["codec_name"], codec) << js;
        EXPECT_EQ(st["width"], 48) << js;
        EXPECT_EQ(st["height"], 32) << js;
        EXPECT_EQ(st["nb_read_frames"], "9") << js;  // ffprobe prints the count as a string
        unlink(path.c_str());
    }
}

// README's first command: the build writes demo.gguf (random weights for the
// toy configs in examples/demo) and svg-run makes a noise video from it.
TEST(Demo, BuildWritesARunnableDemoModel) {
    const std::string demo = kBin + "/demo.gguf";
    ASSERT_TRUE(std::filesystem::exists(demo)) << demo << " missing: the `demo` target (part of the default build) writes it";
    svg_gguf *f = svg_gguf_open(demo.c_str());
    ASSERT_NE(f, nullptr) << svg_last_error();
    const int64_t comps = svg_gguf_find_key(f, "svg.components");
    ASSERT_GE(comps, 0);
    EXPECT_EQ(svg_gguf_arr_n(f, comps), 3);
    EXPECT_GE(svg_gguf_find_key(f, "svg.tokenizer.model"), 0);
    svg_gguf_free(f);
    const std::string out = tmp("demo.avi"), log = tmp("demo.log");
    const int rc = std::system((kBin + "/svg-run " + demo + " 'a cat surfing a wave' -o " + out +
                                " --steps 2 --backend cpu --width 32 --height 32 --frames 5 -q 2>" + log).c_str());
    std::ifstream lf(log);
    EXPECT_EQ(rc, 0) << std::string((std::istreambuf_iterator<char>(lf)), std::istreambuf_iterator<char>());
    EXPECT_TRUE(std::filesystem::exists(out));
    unlink(out.c_str());
    unlink(log.c_str());
}

// The folder layout users download: svg-convert on it bundles every
// component, the tokenizer and the sampler defaults; svg-run takes them.
TEST_F(SvgRun, PipelineFolderBundlesEverything) {
    namespace fs = std::filesystem;
    const fs::path dir = tmp("pipeline");
    fs::create_directories(dir / "tokenizer");
    std::ofstream(dir / "model_index.json") << "{\"_class_name\": \"WanPipeline\"}";
    fs::create_directory_symlink(kData + "/goldens/wan_t2v/transformer", dir / "transformer");
    fs::create_directory_symlink(kData + "/goldens/umt5_encoder/text_encoder", dir / "text_encoder");
    fs::create_directory_symlink(kData + "/goldens/wan_vae/vae", dir / "vae");
    fs::create_directory_symlink(kData + "/goldens/wan_t2v/scheduler", dir / "scheduler");
    fs::copy_file(kData + "/tokenizer_spm/spm_unigram.model", dir / "tokenizer/spiece.model");
    const std::string out = tmp("pipeline.gguf");
    ASSERT_EQ(std::system((kBin + "/svg-convert -q " + dir.string() + " -o " + out).c_str()), 0);
    svg_gguf *f = svg_gguf_open(out.c_str());
    ASSERT_NE(f, nullptr) << svg_last_error();
    const int64_t comps = svg_gguf_find_key(f, "svg.components");
    ASSERT_GE(comps, 0);
    EXPECT_EQ(svg_gguf_arr_n(f, comps), 3);
    EXPECT_GE(svg_gguf_find_key(f, "svg.tokenizer.model"), 0);
    double shift = 0;
    EXPECT_TRUE(svg_gguf_get_float(f, "svg.scheduler.flow_shift", &shift));
    EXPECT_EQ(shift, 3.0);
    svg_gguf_free(f);
    const std::string video = tmp("p.avi");
    EXPECT_EQ(run(out + " 'a cat'" + small + "-o " + video), 0);
    EXPECT_TRUE(fs::exists(video));
    fs::remove_all(dir);
    unlink(out.c_str());
    unlink(video.c_str());
}

}  // namespace
