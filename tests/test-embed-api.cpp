// svg.h's embedding API (models/svg-api.cpp) on the tiny golden models, CPU:
// frames equal svg-run's (which is a CLI over the same calls: this checks the
// option mapping and the model defaults), progress reports, cancellation from
// the callback (prompt, nothing written), and clear errors on bad requests.
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "convert/convert.h"
#include "src/image.h"
#include "test-common.h"
#include "test-models.h"

namespace {

const std::string kData = SVG_TEST_DATA;
const std::string kBin = SVG_BIN_DIR;

std::string tmp(const std::string &n) { return "/tmp/svg-test-embed-" + std::to_string(getpid()) + "-" + n; }

struct event {
    svg_stage stage;
    int step, total;
};
// Records every call; returns false (cancel) at (cancel_stage, cancel_step).
struct recorder {
    std::vector<event> events;
    int cancel_stage = -1, cancel_step = -1;
    static bool cb(svg_stage stage, int step, int total, void *user) {
        recorder &r = *(recorder *)user;
        r.events.push_back({stage, step, total});
        return !(stage == r.cancel_stage && step == r.cancel_step);
    }
};

class EmbedApi : public ::testing::Test {
   protected:
    static std::string path;
    static svg_model *model;
    static void SetUpTestSuite() {
        path = tmp("t2v.gguf");
        ASSERT_TRUE(svgtest::convert_tiny_pipeline("wan_t2v", path)) << svg_last_error();
        svg_model_params mp = svg_model_default_params();
        mp.backend = "cpu";
        model = svg_model_load(path.c_str(), &mp);
        ASSERT_NE(model, nullptr) << svg_last_error();
    }
    static void TearDownTestSuite() {
        svg_model_free(model);
        unlink(path.c_str());
    }
    // svg-run's small test request
    static svg_gen_params small() {
        svg_gen_params p = svg_gen_default_params(model);
        p.prompt = "a cat";
        p.negative_prompt = "bad";
        p.width = p.height = 32;
        p.frames = 9;
        p.steps = 3;
        p.seed = 7;
        return p;
    }
};
std::string EmbedApi::path;
svg_model *EmbedApi::model = nullptr;

TEST_F(EmbedApi, DefaultsFromTheModel) {
    const svg_gen_params p = svg_gen_default_params(model);
    EXPECT_EQ(p.width, 832);
    EXPECT_EQ(p.height, 480);
    EXPECT_EQ(p.frames, 81);
    EXPECT_EQ(p.steps, 50);
    EXPECT_EQ(p.cfg, 5.0f);
    EXPECT_EQ(p.shift, 3.0f);  // no scheduler config in this file: Wan's 3.0
    EXPECT_EQ(p.sampler, SVG_SAMPLER_UNIPC);
    EXPECT_EQ(p.seed, 42u);
    ASSERT_NE(p.negative_prompt, nullptr);
    EXPECT_GT(strlen(p.negative_prompt), 100u);  // the release's
    EXPECT_EQ(p.image, nullptr);
    EXPECT_EQ(svg_gen_output_size(&p), (size_t)81 * 480 * 832 * 3);
    EXPECT_EQ(p.fps, 16);
    // Sparse VideoGen on for Wan, the paper's settings; dense shares by size
    EXPECT_TRUE(p.svg);
    EXPECT_FLOAT_EQ(p.svg_density, 0.3f);
    EXPECT_EQ(p.svg_rows, 64);
    EXPECT_LT(p.svg_dense_steps, 0.f);
    EXPECT_LT(p.svg_dense_layers, 0.f);
    EXPECT_FALSE(p.svg_stats);
    EXPECT_FALSE(svg_model_is_i2v(model));
    EXPECT_STREQ(svg_model_backend_name(model), "CPU");
}

// The defaults come from the file's svg.gen.* / svg.sparse.* metadata: a
// copy with other values there gives those values; with the keys renamed
// (a file from before they existed) the built-in Wan 2.1 values.
std::string slurp_file(const std::string &p) {
    std::ifstream f(p, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}
void spit_file(const std::string &p, const std::string &bytes) { std::ofstream(p, std::ios::binary) << bytes; }
// GGUF key/value: key string, u32 type, value. Overwrites the value (same
// size) of `key` and, if rename, one letter of the key.
void patch_kv(std::string *gguf, const std::string &key, const void *value, size_t size, bool rename) {
    const size_t at = gguf->find(key);
    ASSERT_NE(at, std::string::npos) << key;
    gguf->replace(at + key.size() + 4, size, (const char *)value, size);
    if (rename) (*gguf)[at + key.size() - 1] = '_';
}
TEST_F(EmbedApi, DefaultsComeFromTheMetadata) {
    const std::string bytes = slurp_file(path);
    for (bool rename : {false, true}) {
        std::string g = bytes;
        const uint32_t width = 640, height = 368, frames = 33, steps = 20, fps = 24, rows = 32;
        const float cfg = 4.5f, density = 0.2f;
        const uint8_t off = 0;
        patch_kv(&g, "svg.gen.width", &width, 4, rename);
        patch_kv(&g, "svg.gen.height", &height, 4, rename);
        patch_kv(&g, "svg.gen.frames", &frames, 4, rename);
        patch_kv(&g, "svg.gen.steps", &steps, 4, rename);
        patch_kv(&g, "svg.gen.fps", &fps, 4, rename);
        patch_kv(&g, "svg.gen.cfg", &cfg, 4, rename);
        patch_kv(&g, "svg.sparse.enabled", &off, 1, rename);
        patch_kv(&g, "svg.sparse.density", &density, 4, rename);
        patch_kv(&g, "svg.sparse.rows", &rows, 4, rename);
        const std::string edited = tmp("edited.gguf");
        spit_file(edited, g);
        svg_model_params mp = svg_model_default_params();
        mp.backend = "cpu";
        svg_model *m = svg_model_load(edited.c_str(), &mp);
        ASSERT_NE(m, nullptr) << svg_last_error();
        const svg_gen_params p = svg_gen_default_params(m);
        EXPECT_EQ(p.width, rename ? 832 : 640);
        EXPECT_EQ(p.height, rename ? 480 : 368);
        EXPECT_EQ(p.frames, rename ? 81 : 33);
        EXPECT_EQ(p.steps, rename ? 50 : 20);
        EXPECT_EQ(p.fps, rename ? 16 : 24);
        EXPECT_FLOAT_EQ(p.cfg, rename ? 5.0f : 4.5f);
        EXPECT_EQ(p.svg, rename);
        EXPECT_FLOAT_EQ(p.svg_density, rename ? 0.3f : 0.2f);
        EXPECT_EQ(p.svg_rows, rename ? 64 : 32);
        svg_model_free(m);
        unlink(edited.c_str());
    }
}

// The frames svg_generate writes are svg-run's, pixel for pixel (PNG frames
// are lossless), and progress runs text → denoise → decode.
TEST_F(EmbedApi, FramesEqualSvgRun) {
    const svg_gen_params p = small();
    std::vector<uint8_t> frames(svg_gen_output_size(&p));
    recorder rec;
    ASSERT_TRUE(svg_generate(model, &p, frames.data(), frames.size(), recorder::cb, &rec)) << svg_last_error();

    const std::string dir = tmp("frames/");
    const std::string cmd = kBin + "/svg-run " + path + " 'a cat' --width 32 --height 32 --frames 9 --steps 3 --backend cpu --negative 'bad' -q --seed 7 -o " + dir;
    ASSERT_EQ(std::system(cmd.c_str()), 0);
    for (int f = 0; f < 9; f++) {
        char name[32];
        snprintf(name, sizeof name, "frame_%05d.png", f);
        svg_image img;
        ASSERT_TRUE(svg_image_load((dir + name).c_str(), &img)) << svg_last_error();
        ASSERT_EQ(img.width, 32);
        ASSERT_EQ(img.height, 32);
        EXPECT_EQ(memcmp(img.rgb.data(), frames.data() + (size_t)f * 32 * 32 * 3, 32 * 32 * 3), 0) << "frame " << f;
        unlink((dir + name).c_str());
    }
    rmdir(dir.c_str());

    // progress: each stage from 0 to its total, in order
    std::vector<std::pair<int, int>> ends;  // (stage, total) at step == total
    int last_stage = -1;
    for (const event &e : rec.events) {
        EXPECT_GE((int)e.stage, last_stage);
        if (e.stage != last_stage) {
            EXPECT_EQ(e.step, 0) << svg_stage_name(e.stage);
        }
        last_stage = e.stage;
        if (e.step == e.total) ends.push_back({e.stage, e.total});
    }
    EXPECT_EQ(ends, (std::vector<std::pair<int, int>>{{SVG_STAGE_TEXT_ENCODE, 2}, {SVG_STAGE_DENOISE, 3}, {SVG_STAGE_DECODE, 3}}));
    const svg_gen_stats *st = svg_model_stats(model);
    EXPECT_GT(st->prompt_tokens, 0);
    EXPECT_GT(st->negative_tokens, 0);
    EXPECT_GT(st->denoise_s, 0);
    EXPECT_GT(st->decode_s, 0);
    EXPECT_GE(st->total_s, st->text_encode_s + st->denoise_s + st->decode_s);

    // the same seed again: the same frames; another seed: others
    std::vector<uint8_t> again(frames.size()), other(frames.size());
    ASSERT_TRUE(svg_generate(model, &p, again.data(), again.size(), nullptr, nullptr)) << svg_last_error();
    EXPECT_EQ(again, frames);
    svg_gen_params q = p;
    q.seed = 8;
    ASSERT_TRUE(svg_generate(model, &q, other.data(), other.size(), nullptr, nullptr)) << svg_last_error();
    EXPECT_NE(other, frames);
}

// Returning false from the callback stops at once with a "cancelled" error
// and leaves the caller's buffer (and what lies past it) untouched.
void expect_cancel(svg_model *model, svg_gen_params p, svg_stage stage, int step) {
    const size_t n = svg_gen_output_size(&p);
    std::vector<uint8_t> buf(n + 64, 0xAB);
    recorder rec;
    rec.cancel_stage = stage;
    rec.cancel_step = step;
    EXPECT_FALSE(svg_generate(model, &p, buf.data(), n, recorder::cb, &rec));
    EXPECT_NE(std::string(svg_last_error()).find("cancel"), std::string::npos) << svg_last_error();
    ASSERT_FALSE(rec.events.empty());
    const event &e = rec.events.back();  // nothing reported after the cancelling call
    EXPECT_EQ(e.stage, stage);
    EXPECT_EQ(e.step, step);
    for (size_t i = 0; i < buf.size(); i++)
        if (buf[i] != 0xAB) FAIL() << "byte " << i << " of " << n << " written";
}
TEST_F(EmbedApi, CancelDuringDenoise) { expect_cancel(model, small(), SVG_STAGE_DENOISE, 1); }
TEST_F(EmbedApi, CancelDuringDecode) { expect_cancel(model, small(), SVG_STAGE_DECODE, 1); }
TEST_F(EmbedApi, CancelBeforeTextEncode) {
    svg_gen_params p = small();
    p.cfg = 1.0f;  // one prompt only
    expect_cancel(model, p, SVG_STAGE_TEXT_ENCODE, 0);
}

TEST_F(EmbedApi, RejectsBadRequests) {
    auto expect_error = [](bool ok, const char *what) {
        EXPECT_FALSE(ok);
        EXPECT_NE(std::string(svg_last_error()).find(what), std::string::npos) << svg_last_error();
    };
    std::vector<uint8_t> buf((size_t)9 * 32 * 32 * 3);
    svg_gen_params p = small();
    p.width = 30;
    EXPECT_EQ(svg_gen_output_size(&p), 0u);
    expect_error(svg_generate(model, &p, buf.data(), buf.size(), nullptr, nullptr), "multiples of 16");
    p = small();
    p.frames = 10;
    EXPECT_EQ(svg_gen_output_size(&p), 0u);
    expect_error(svg_generate(model, &p, buf.data(), buf.size(), nullptr, nullptr), "4k+1");
    p = small();
    expect_error(svg_generate(model, &p, buf.data(), buf.size() - 1, nullptr, nullptr), "too small");
    expect_error(svg_generate(model, &p, nullptr, buf.size(), nullptr, nullptr), "too small");
    p.steps = 0;
    expect_error(svg_generate(model, &p, buf.data(), buf.size(), nullptr, nullptr), "steps");
    // a first frame for a T2V file without an image encoder
    p = small();
    const uint8_t rgb[16 * 16 * 3] = {};
    p.image = rgb;
    p.image_width = p.image_height = 16;
    expect_error(svg_generate(model, &p, buf.data(), buf.size(), nullptr, nullptr), "image_encoder");

    // model files and parameters
    expect_error(svg_model_load("/nonexistent.gguf", nullptr) != nullptr, "/nonexistent.gguf");
    svg_model_params mp = svg_model_default_params();
    mp.backend = "tpu";
    expect_error(svg_model_load(path.c_str(), &mp) != nullptr, "backend");
    mp.backend = "cpu";
    mp.dtype = "bf16";
    expect_error(svg_model_load(path.c_str(), &mp) != nullptr, "f32");
    svg_convert_options opt;
    svg_convert_source t;
    t.path = kData + "/goldens/wan_t2v/transformer";
    opt.sources = {t};
    opt.output = tmp("dit.gguf");
    ASSERT_TRUE(svg_convert(opt));
    expect_error(svg_model_load(opt.output.c_str(), nullptr) != nullptr, "text_encoder, vae, tokenizer");
    unlink(opt.output.c_str());
}

// The memory plan names every stage with its component's weights as the
// file holds them; on the CPU backend there is no budget to plan against.
TEST_F(EmbedApi, MemoryPlanNamesEveryStage) {
    svg_gen_params p = small();
    const char *plan = svg_model_memory_plan(model, &p);
    ASSERT_NE(plan, nullptr) << svg_last_error();
    const std::string s = plan;
    for (const char *want : {"text encoder: ", "denoise: transformer ", "decode: VAE ", "on the CPU"})
        EXPECT_NE(s.find(want), std::string::npos) << want << " in\n" << s;
    EXPECT_EQ(s.find("VRAM budget"), std::string::npos) << s;
    svg_gguf *f = svg_gguf_open(path.c_str());
    ASSERT_NE(f, nullptr);
    size_t sum = 0;
    for (int64_t i = 0; i < svg_gguf_n_tensors(f); i++) sum += svg_gguf_tensor_nbytes(f, i);
    EXPECT_EQ(svg_component_bytes(f, "transformer") + svg_component_bytes(f, "text_encoder") + svg_component_bytes(f, "vae"), sum);
    EXPECT_GT(svg_component_bytes(f, "transformer"), 0u);
    svg_gguf_free(f);
    EXPECT_EQ(svg_model_memory_plan(nullptr, &p), nullptr);
    svg_model_params mp = svg_model_default_params();
    mp.backend = "cpu";
    mp.vram_budget_gib = -1;
    EXPECT_EQ(svg_model_load(path.c_str(), &mp), nullptr);
    EXPECT_NE(std::string(svg_last_error()).find("VRAM budget"), std::string::npos) << svg_last_error();
}

// A VRAM budget below the transformer's weights is an error naming them
// before any work (no progress reported); a budget that holds the run is
// never exceeded.
TEST_F(EmbedApi, VramBudgetCuda) {
    SVG_NEED_CUDA();
    svg_gguf *f = svg_gguf_open(path.c_str());
    ASSERT_NE(f, nullptr);
    const size_t dit = svg_component_bytes(f, "transformer");
    svg_gguf_free(f);
    svg_gen_params p = small();
    std::vector<uint8_t> frames(svg_gen_output_size(&p));
    svg_model_params mp = svg_model_default_params();
    mp.backend = "cuda";
    mp.vram_budget_gib = 0.9 * (double)dit / 1073741824.0;
    svg_model *m = svg_model_load(path.c_str(), &mp);
    ASSERT_NE(m, nullptr) << svg_last_error();
    EXPECT_EQ(svg_model_memory_plan(m, &p), nullptr);
    EXPECT_NE(std::string(svg_last_error()).find("transformer's weights"), std::string::npos) << svg_last_error();
    recorder rec;
    EXPECT_FALSE(svg_generate(m, &p, frames.data(), frames.size(), recorder::cb, &rec));
    EXPECT_TRUE(rec.events.empty());
    svg_model_free(m);

    mp.vram_budget_gib = 0.5;
    m = svg_model_load(path.c_str(), &mp);
    ASSERT_NE(m, nullptr) << svg_last_error();
    const char *plan = svg_model_memory_plan(m, &p);
    ASSERT_NE(plan, nullptr) << svg_last_error();
    EXPECT_NE(std::string(plan).find("VRAM budget 512.0 MiB"), std::string::npos) << plan;
    ASSERT_TRUE(svg_generate(m, &p, frames.data(), frames.size(), nullptr, nullptr)) << svg_last_error();
    EXPECT_LE(svg_model_stats(m)->peak_device_bytes, (size_t)512 << 20);
    svg_model_free(m);
}

// Tiled decoding reports one chunk per latent frame and tile.
TEST_F(EmbedApi, TiledDecodeProgress) {
    svg_model_params mp = svg_model_default_params();
    mp.backend = "cpu";
    mp.vae_tiling = true;
    svg_model *m = svg_model_load(path.c_str(), &mp);
    ASSERT_NE(m, nullptr) << svg_last_error();
    svg_gen_params p = small();
    p.width = 288;  // 36 latent columns: tiles of 32 every 24 → 2 tiles
    p.frames = 5;   // 2 latent frames
    p.steps = 1;
    std::vector<uint8_t> frames(svg_gen_output_size(&p));
    recorder rec;
    ASSERT_TRUE(svg_generate(m, &p, frames.data(), frames.size(), recorder::cb, &rec)) << svg_last_error();
    std::vector<int> decode_steps;
    for (const event &e : rec.events)
        if (e.stage == SVG_STAGE_DECODE) {
            EXPECT_EQ(e.total, 4);
            decode_steps.push_back(e.step);
        }
    EXPECT_EQ(decode_steps, (std::vector<int>{0, 1, 2, 3, 4}));
    svg_model_free(m);
}

// examples/embed runs on a model file and prints its summary.
TEST_F(EmbedApi, ExampleRuns) {
    const std::string log = tmp("embed.log");
    ASSERT_EQ(std::system((kBin + "/svg-embed " + path + " 'a cat' 2 >" + log + " 2>&1").c_str()), 0);
    FILE *f = fopen(log.c_str(), "r");
    ASSERT_NE(f, nullptr);
    char buf[4096] = {};
    const size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    unlink(log.c_str());
    EXPECT_NE(std::string(buf, n).find("mean pixel"), std::string::npos) << buf;
}

// An I2V file wants a first frame (and an image encoder to read it).
TEST(EmbedApiI2V, NeedsAnImage) {
    const std::string path = tmp("i2v.gguf");
    ASSERT_TRUE(svgtest::convert_tiny_pipeline("wan_i2v", path)) << svg_last_error();
    svg_model_params mp = svg_model_default_params();
    mp.backend = "cpu";
    svg_model *m = svg_model_load(path.c_str(), &mp);
    ASSERT_NE(m, nullptr) << svg_last_error();
    EXPECT_TRUE(svg_model_is_i2v(m));
    svg_gen_params p = svg_gen_default_params(m);
    p.prompt = "a cat";
    p.width = p.height = 32;
    p.frames = 5;
    p.steps = 1;
    std::vector<uint8_t> buf(svg_gen_output_size(&p));
    EXPECT_FALSE(svg_generate(m, &p, buf.data(), buf.size(), nullptr, nullptr));
    EXPECT_NE(std::string(svg_last_error()).find("image-to-video"), std::string::npos) << svg_last_error();
    const uint8_t rgb[16 * 16 * 3] = {};
    p.image = rgb;
    p.image_width = p.image_height = 16;
    EXPECT_FALSE(svg_generate(m, &p, buf.data(), buf.size(), nullptr, nullptr));
    EXPECT_NE(std::string(svg_last_error()).find("image_encoder"), std::string::npos) << svg_last_error();
    svg_model_free(m);
    unlink(path.c_str());
}

}  // namespace
