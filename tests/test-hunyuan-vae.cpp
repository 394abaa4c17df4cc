// HunyuanVideo VAE decoder against AutoencoderKLHunyuanVideo: the shared
// golden (3 latent frames) and held-out cases from another config made by
// tests/data/hunyuan_vae_extra/make_extra.py (bf16 weights, spatial factor 4):
// a plain decode, framewise windows (batch of 2), framewise decoding off,
// spatial tiles, and windows × tiles, each against the reference's own
// output with the same settings. CPU f32: rel L2 ≤ 1e-4. The HunyuanVaeCuda
// suite repeats them on the GPU with the attention projections in bf16
// (bf16 tolerance). A lone .safetensors converts with its config inferred.
#include <unistd.h>

#include <fstream>
#include <memory>
#include <random>
#include <string>

#include "models/forward.h"
#include "models/hunyuan-vae.h"
#include "test-common.h"
#include "test-models.h"

namespace {

const std::string kData = SVG_TEST_DATA;
const std::string kGolden = kData + "/goldens/hunyuan_vae";
const std::string kExtra = kData + "/hunyuan_vae_extra";

// A VAE converted (linear weights as `type`), opened and loaded on the CPU
// or the first CUDA device; members go in reverse: weights before backend.
struct loaded {
    std::unique_ptr<svg_backend, svgtest::converted::backend_free> be;
    std::unique_ptr<svg_gguf, svgtest::converted::gguf_free> f;
    hunyuan_vae m;
    bool ok = false;
    loaded(const std::string &path, bool cuda, svg_type type = SVG_TYPE_COUNT) : be(svgtest::new_backend(cuda)) {
        EXPECT_NE(be, nullptr) << svg_last_error();
        svg_convert_options opt;
        opt.sources = {svgtest::source(path)};
        opt.type = type;
        opt.output = "/tmp/svg-test-hunyuan-vae-" + std::to_string(getpid()) + ".gguf";
        const bool converted = be && svg_convert(opt);
        EXPECT_TRUE(converted) << svg_last_error();
        if (converted) f.reset(svg_gguf_open(opt.output.c_str()));
        unlink(opt.output.c_str());  // mapped: stays readable
        ok = f && hunyuan_vae_load(f.get(), be.get(), &m);
        EXPECT_TRUE(ok) << svg_last_error();
    }
};

// The decode settings of a case: make_extra.py's enable_tiling arguments.
struct settings {
    bool tiled = false, framewise = true;
    vae_tiling tiling;
    int64_t tile_frames = 16, stride_frames = 12;
};

double decode_error(const std::string &folder, const std::string &cse, const settings &s, bool cuda) {
    loaded v(folder, cuda, cuda ? SVG_TYPE_BF16 : SVG_TYPE_COUNT);
    if (!v.ok) return INFINITY;
    v.m.framewise = s.framewise;
    v.m.tiling = s.tiling;
    v.m.tile_frames = s.tile_frames;
    v.m.stride_frames = s.stride_frames;
    vae_tensor video;
    int64_t steps = 0, total = 0;
    const vae_progress count = [&](int64_t done, int64_t all) {
        EXPECT_EQ(done, ++steps);
        total = all;
        return true;
    };
    if (!hunyuan_vae_decode(v.m, v.be.get(), svgtest::read_video(cse, "z"), s.tiled, &video, count)) {
        ADD_FAILURE() << svg_last_error();
        return INFINITY;
    }
    EXPECT_EQ(steps, total);
    const vae_tensor ref = svgtest::read_video(cse, "video");
    EXPECT_EQ(video.shape, ref.shape);
    const double e = svgtest::rel_l2(video.data, ref.data);
    printf("%s: rel L2 %.3g (%lld steps)\n", cse.substr(cse.rfind('/') + 1).c_str(), e, (long long)steps);
    return e;
}

void all_cases(bool cuda, double tol) {
    const settings plain;
    EXPECT_LE(decode_error(kGolden + "/vae", kGolden + "/decode.safetensors", plain, cuda), tol);
    EXPECT_LE(decode_error(kExtra + "/vae", kExtra + "/decode.safetensors", plain, cuda), tol);
    EXPECT_LE(decode_error(kExtra + "/vae", kExtra + "/decode_framewise.safetensors", plain, cuda), tol);
    settings whole;
    whole.framewise = false;
    EXPECT_LE(decode_error(kExtra + "/vae", kExtra + "/decode_whole.safetensors", whole, cuda), tol);
    settings tiles;
    tiles.tiled = true;
    tiles.tiling = {16, 16, 12, 12};
    EXPECT_LE(decode_error(kExtra + "/vae", kExtra + "/decode_tiled.safetensors", tiles, cuda), tol);
    settings both;
    both.tiled = true;
    both.tiling = {16, 12, 12, 8};
    both.tile_frames = 8;
    both.stride_frames = 4;
    EXPECT_LE(decode_error(kExtra + "/vae", kExtra + "/decode_framewise_tiled.safetensors", both, cuda), tol);
}

}  // namespace

TEST(HunyuanVae, MatchesTheReference) { all_cases(false, 1e-4); }

TEST(HunyuanVaeCuda, MatchesTheReference) {
    SVG_NEED_CUDA();
    all_cases(true, 2e-2);
}

TEST(HunyuanVae, ReadsItsConfig) {
    loaded v(kExtra + "/vae", false);
    ASSERT_TRUE(v.ok);
    EXPECT_EQ(v.m.z_dim, 4);
    EXPECT_EQ(v.m.channels, std::vector<int64_t>({4, 8, 8}));
    EXPECT_EQ(v.m.layers_per_block, 2);
    EXPECT_EQ(v.m.groups, 4);
    EXPECT_EQ(v.m.spatial_factor, 4);
    EXPECT_TRUE(v.m.mid_attention);
    // the reference's decode defaults
    EXPECT_TRUE(v.m.framewise);
    EXPECT_EQ(v.m.tile_frames, 16);
    EXPECT_EQ(v.m.stride_frames, 12);
    EXPECT_EQ(v.m.tiling.tile_h, 256);
    EXPECT_EQ(v.m.tiling.stride_w, 192);
    for (int64_t t : {1, 2, 5, 33}) EXPECT_EQ(hunyuan_vae_frames(v.m, t), 4 * t - 3) << t;
}

// svg-forward --component vae (and vae_decode) on the golden; encoding is refused.
TEST(HunyuanVae, SvgForwardDecodes) {
    loaded v(kGolden + "/vae", false);
    ASSERT_TRUE(v.ok);
    const std::string cse = kGolden + "/decode.safetensors";
    std::unique_ptr<svg_safetensors, void (*)(svg_safetensors *)> in(svg_safetensors_open(cse.c_str()), svg_safetensors_free);
    ASSERT_NE(in, nullptr) << svg_last_error();
    const vae_tensor ref = svgtest::read_video(cse, "video");
    for (const char *component : {"vae", "vae_decode"}) {
        svg_forward_result out;
        ASSERT_TRUE(svg_forward_component(v.f.get(), component, v.be.get(), SVG_TYPE_F32, in.get(), &out)) << svg_last_error();
        const svg_forward_tensor *video = out.get("video");
        ASSERT_NE(video, nullptr);
        EXPECT_EQ(video->shape, ref.shape);
        EXPECT_LE(svgtest::rel_l2(video->values, ref.data), 1e-4) << component;
    }
    svg_forward_result out;
    EXPECT_FALSE(svg_forward_component(v.f.get(), "vae_encode", v.be.get(), SVG_TYPE_F32, in.get(), &out));
    EXPECT_NE(std::string(svg_last_error()).find("decodes only"), std::string::npos) << svg_last_error();
}

// The release's VAE file (and ComfyUI's) names its tensors as diffusers does
// and has no config: a release-shaped checkpoint written as one
// .safetensors converts with the config inferred, and decodes as the
// checkpoint it was written from.
TEST(HunyuanVae, ConvertsASingleFileWithoutConfig) {
    const std::string tag = std::to_string(getpid());
    const std::string config = "/tmp/svg-test-hunyuan-vae-config-" + tag + ".json";
    const std::string file = "/tmp/svg-test-hunyuan-vae-single-" + tag + ".safetensors";
    // norm groups 32 and factors 8 / 4 are what inference assumes (the release's)
    std::ofstream(config) << R"({"_class_name": "AutoencoderKLHunyuanVideo", "block_out_channels": [32, 32, 32],
                                 "layers_per_block": 1, "latent_channels": 4})";
    svg_convert_options opt;
    svg_convert_source random;
    random.component = "vae";
    random.config_path = config;
    opt.sources = {random};
    opt.random = true;
    opt.seed = 3;
    opt.output = "/tmp/svg-test-hunyuan-vae-random-" + tag + ".gguf";
    ASSERT_TRUE(svg_convert(opt)) << svg_last_error();
    unlink(config.c_str());
    std::unique_ptr<svg_gguf, svgtest::converted::gguf_free> f(svg_gguf_open(opt.output.c_str()));
    unlink(opt.output.c_str());
    ASSERT_NE(f, nullptr) << svg_last_error();
    std::unique_ptr<svg_backend, svgtest::converted::backend_free> be(svgtest::new_backend(false));
    hunyuan_vae a;
    ASSERT_TRUE(hunyuan_vae_load(f.get(), be.get(), &a)) << svg_last_error();
    std::vector<const svg_tensor *> tensors;
    for (const auto &kv : a.w.tensors) tensors.push_back(svg_set_name(kv.second, kv.first.c_str()));
    ASSERT_TRUE(svg_safetensors_write(file.c_str(), tensors.data(), (int64_t)tensors.size())) << svg_last_error();

    loaded b(file, false);
    unlink(file.c_str());
    ASSERT_TRUE(b.ok);
    EXPECT_EQ(b.m.channels, std::vector<int64_t>({32, 32, 32}));
    EXPECT_EQ(b.m.layers_per_block, 1);
    EXPECT_EQ(b.m.z_dim, 4);
    EXPECT_EQ(b.m.groups, 32);
    EXPECT_EQ(b.m.spatial_factor, 8);
    EXPECT_TRUE(b.m.mid_attention);
    vae_tensor z = vae_zeros({1, 4, 2, 2, 3}), va, vb;
    std::mt19937 rng(5);
    std::normal_distribution<float> normal;
    for (float &x : z.data) x = normal(rng);
    ASSERT_TRUE(hunyuan_vae_decode(a, be.get(), z, false, &va)) << svg_last_error();
    ASSERT_TRUE(hunyuan_vae_decode(b.m, b.be.get(), z, false, &vb)) << svg_last_error();
    EXPECT_EQ(va.shape, std::vector<int64_t>({1, 3, 5, 16, 24}));
    EXPECT_EQ(va.data, vb.data);
    EXPECT_GT(svgtest::rel_l2(va.data, std::vector<float>(va.data.size(), 0.f)), 0.5);
}

TEST(HunyuanVae, RejectsBadInputs) {
    loaded v(kGolden + "/vae", false);
    ASSERT_TRUE(v.ok);
    vae_tensor z, video;
    z.shape = {1, 8, 2, 4, 4};  // 8 channels, the VAE has 16
    z.data.assign(256, 0.5f);
    EXPECT_FALSE(hunyuan_vae_decode(v.m, v.be.get(), z, false, &video));
    EXPECT_NE(std::string(svg_last_error()).find("z must be [B, 16"), std::string::npos) << svg_last_error();
    z = vae_zeros({1, 16, 6, 2, 2});
    v.m.stride_frames = 10;  // not a multiple of the time factor
    EXPECT_FALSE(hunyuan_vae_decode(v.m, v.be.get(), z, false, &video));
    EXPECT_NE(std::string(svg_last_error()).find("multiples of 4"), std::string::npos) << svg_last_error();
    // a progress callback that says stop cancels the decode
    v.m.stride_frames = 12;
    EXPECT_FALSE(hunyuan_vae_decode(v.m, v.be.get(), z, false, &video, [](int64_t, int64_t) { return false; }));
    EXPECT_NE(std::string(svg_last_error()).find("cancelled"), std::string::npos) << svg_last_error();
}
