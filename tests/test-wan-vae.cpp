// Wan 2.1 VAE against the reference: convert the golden checkpoints (the
// diffusers folder, and the original single-file naming with its config
// inferred), decode the recorded z and encode the recorded video one chunk
// at a time, compare with AutoencoderKLWan's outputs. Tiled decoding is
// compared with untiled. The WanVaeCuda suite repeats the goldens on the
// first CUDA device (the VAE computes in f32 there too: fp32 tolerance).
#include <unistd.h>

#include <cstdio>
#include <memory>
#include <string>

#include "convert/convert.h"
#include "models/wan-vae.h"
#include "test-common.h"
#include "test-models.h"

namespace {

const std::string kData = SVG_TEST_DATA;

std::string temp_path(const std::string &tag) {
    return "/tmp/svg-test-wan-vae-" + tag + "-" + std::to_string(getpid()) + ".gguf";
}

struct backend_free {
    void operator()(svg_backend *b) const { svg_backend_free(b); }
};
struct gguf_free {
    void operator()(svg_gguf *f) const { svg_gguf_free(f); }
};

// A golden case's VAE converted to a model file and loaded on the CPU (or
// on the first CUDA device).
struct loaded_vae {
    // members go in reverse: the weights (in m) before the backend owning them
    std::unique_ptr<svg_backend, backend_free> be;
    std::unique_ptr<svg_gguf, gguf_free> f;
    wan_vae m;
    bool ok = false;

    // original: the single file in the original naming, without a config
    // (inferred from its shapes); else the diffusers folder.
    loaded_vae(const std::string &cse, bool original, bool cuda = false) : be(svgtest::new_backend(cuda)) {
        EXPECT_NE(be, nullptr) << svg_last_error();
        if (!be) return;
        const std::string dir = kData + "/goldens/" + cse;
        svg_convert_options opt;
        svg_convert_source src;
        src.component = "vae";
        src.path = original ? dir + "/wan_vae_original_naming.safetensors" : dir + "/vae";
        opt.sources.push_back(src);
        opt.output = temp_path(cse + (original ? "-orig" : "-diffusers"));
        const bool converted = svg_convert(opt);
        EXPECT_TRUE(converted) << svg_last_error();
        if (converted) f.reset(svg_gguf_open(opt.output.c_str()));
        unlink(opt.output.c_str());  // mapped: stays readable
        EXPECT_NE(f, nullptr) << svg_last_error();
        ok = f && wan_vae_load(f.get(), be.get(), &m);
        EXPECT_TRUE(ok) << svg_last_error();
    }
};

// rel L2 of out against the reference tensor, shapes included.
double error_vs(const vae_tensor &out, const vae_tensor &ref) {
    EXPECT_EQ(out.shape, ref.shape);
    return svgtest::rel_l2(out.data, ref.data);
}

double decode_error(const std::string &cse, bool original, bool cuda = false) {
    loaded_vae v(cse, original, cuda);
    if (!v.ok) return INFINITY;
    const std::string golden = kData + "/goldens/" + cse + "/decode.safetensors";
    vae_tensor video;
    if (!wan_vae_decode(v.m, v.be.get(), svgtest::read_video(golden, "z"), &video)) {
        ADD_FAILURE() << svg_last_error();
        return INFINITY;
    }
    return error_vs(video, svgtest::read_video(golden, "video"));
}

// rel L2 of the mean (and of the logvar when the case recorded it).
std::pair<double, double> encode_error(const std::string &cse, bool original, bool cuda = false) {
    loaded_vae v(cse, original, cuda);
    if (!v.ok) return {INFINITY, INFINITY};
    const std::string golden = kData + "/goldens/" + cse + "/encode.safetensors";
    vae_tensor mean, logvar;
    if (!wan_vae_encode(v.m, v.be.get(), svgtest::read_video(golden, "video"), &mean, &logvar)) {
        ADD_FAILURE() << svg_last_error();
        return {INFINITY, INFINITY};
    }
    svg_safetensors *st = svg_safetensors_open(golden.c_str());
    const bool has_logvar = st && svg_safetensors_find(st, "logvar") >= 0;
    if (st) svg_safetensors_free(st);
    return {error_vs(mean, svgtest::read_video(golden, "mean")), has_logvar ? error_vs(logvar, svgtest::read_video(golden, "logvar")) : 0.0};
}

TEST(WanVae, DecodeMatchesReference) { EXPECT_LE(decode_error("wan_vae", false), 1e-4); }

// Batch items are independent: [z, z] decodes to [video, video].
TEST(WanVae, DecodesABatch) {
    loaded_vae v("wan_vae", false);
    ASSERT_TRUE(v.ok);
    const std::string golden = kData + "/goldens/wan_vae/decode.safetensors";
    vae_tensor z = svgtest::read_video(golden, "z"), ref = svgtest::read_video(golden, "video"), video;
    z.shape[0] = ref.shape[0] = 2;
    z.data.insert(z.data.end(), z.data.begin(), z.data.end());
    ref.data.insert(ref.data.end(), ref.data.begin(), ref.data.end());
    ASSERT_TRUE(wan_vae_decode(v.m, v.be.get(), z, &video)) << svg_last_error();
    EXPECT_LE(error_vs(video, ref), 1e-4);
}

TEST(WanVae, EncodeMatchesReference) {
    const auto e = encode_error("wan_vae", false);
    EXPECT_LE(e.first, 1e-4);
    EXPECT_LE(e.second, 1e-4);
}

// The release's layout (base 4, mults 1-2-4-4, 2 residual blocks per stage)
// in the original naming, config inferred from the tensor shapes.
TEST(WanVae, OriginalNamingDecodeMatchesReference) { EXPECT_LE(decode_error("wan_vae_original", true), 1e-4); }
TEST(WanVae, OriginalNamingEncodeMatchesReference) { EXPECT_LE(encode_error("wan_vae_original", true).first, 1e-4); }

// The config inferred from the original file is the one diffusers saved.
TEST(WanVae, InferredConfigMatchesDiffusers) {
    svg_convert_options opt;
    svg_convert_source src;
    src.component = "vae";
    src.path = kData + "/goldens/wan_vae_original/wan_vae_original_naming.safetensors";
    src.config_path = kData + "/goldens/wan_vae_original/vae/config.json";
    opt.sources.push_back(src);
    opt.output = temp_path("config");
    ASSERT_TRUE(svg_convert(opt)) << svg_last_error();
    svg_gguf *given = svg_gguf_open(opt.output.c_str());
    unlink(opt.output.c_str());
    loaded_vae inferred("wan_vae_original", true);
    ASSERT_NE(given, nullptr);
    ASSERT_TRUE(inferred.ok);
    for (const char *key : {"base_dim", "z_dim", "num_res_blocks", "in_channels", "out_channels", "scale_factor_spatial",
                            "scale_factor_temporal"}) {
        int64_t a = -1, b = -2;
        const std::string k = std::string("svg.vae.") + key;
        EXPECT_TRUE(svg_gguf_get_int(given, k.c_str(), &a) && svg_gguf_get_int(inferred.f.get(), k.c_str(), &b)) << key;
        EXPECT_EQ(a, b) << key;
    }
    for (const char *key : {"dim_mult", "temperal_downsample", "latents_mean", "latents_std", "attn_scales"}) {
        const std::string k = std::string("svg.vae.") + key;
        const int64_t i = svg_gguf_find_key(given, k.c_str()), j = svg_gguf_find_key(inferred.f.get(), k.c_str());
        ASSERT_TRUE(i >= 0 && j >= 0) << key;
        ASSERT_EQ(svg_gguf_arr_type(given, i), svg_gguf_arr_type(inferred.f.get(), j)) << key;
        ASSERT_EQ(svg_gguf_arr_n(given, i), svg_gguf_arr_n(inferred.f.get(), j)) << key;
        const size_t size = svg_gguf_arr_type(given, i) == SVG_GGUF_BOOL ? 1 : svg_gguf_arr_type(given, i) == SVG_GGUF_INT64 ? 8 : 4;
        EXPECT_EQ(0, memcmp(svg_gguf_arr_data(given, i), svg_gguf_arr_data(inferred.f.get(), j), size * (size_t)svg_gguf_arr_n(given, i)))
            << key;
    }
    svg_gguf_free(given);
}

// Tiles of 3×3 latents every 2 (blend 8 pixels) on the 4×4 golden latent:
// 2×2 tiles, each seeing only part of the picture, so the result differs
// from the untiled decode near the seams (measured: rel L2 0.053 with these
// random weights; bounded at twice that); a tile covering the whole latent is
// the untiled decode exactly.
void check_tiled_decode(bool cuda) {
    loaded_vae v("wan_vae", false, cuda);
    ASSERT_TRUE(v.ok);
    const vae_tensor z = svgtest::read_video(kData + "/goldens/wan_vae/decode.safetensors", "z");
    vae_tensor full, tiled, whole;
    ASSERT_TRUE(wan_vae_decode(v.m, v.be.get(), z, &full)) << svg_last_error();
    vae_tiling t;
    t.tile_h = t.tile_w = 24;
    t.stride_h = t.stride_w = 16;
    ASSERT_TRUE(wan_vae_decode_tiled(v.m, v.be.get(), z, t, &tiled)) << svg_last_error();
    const double err = error_vs(tiled, full);
    printf("%s: tiled (24 px tiles, stride 16) vs untiled decode: rel L2 %.3g, max abs %.3g\n", cuda ? "CUDA" : "CPU",
           err, svgtest::max_abs_diff(tiled.data, full.data));
    ::testing::Test::RecordProperty(cuda ? "tiled_vs_untiled_rel_l2_cuda" : "tiled_vs_untiled_rel_l2", std::to_string(err));
    EXPECT_GT(err, 0.0);
    EXPECT_LE(err, 0.1);
    t.tile_h = t.tile_w = 32;
    ASSERT_TRUE(wan_vae_decode_tiled(v.m, v.be.get(), z, t, &whole)) << svg_last_error();
    // the same wan_vae_decode call: bit-equal on the CPU; on the GPU only as
    // close as its kernels are run-to-run deterministic (cuBLASLt's choice)
    if (cuda)
        EXPECT_LE(error_vs(whole, full), 1e-6);
    else
        EXPECT_EQ(whole.data, full.data);
}
TEST(WanVae, TiledDecodeStaysCloseToUntiled) { check_tiled_decode(false); }

// The goldens on the GPU, f32, both namings.
TEST(WanVaeCuda, DecodeMatchesReference) {
    SVG_NEED_CUDA();
    EXPECT_LE(decode_error("wan_vae", false, true), 1e-4);
}
TEST(WanVaeCuda, EncodeMatchesReference) {
    SVG_NEED_CUDA();
    const auto e = encode_error("wan_vae", false, true);
    EXPECT_LE(e.first, 1e-4);
    EXPECT_LE(e.second, 1e-4);
}
TEST(WanVaeCuda, OriginalNamingDecodeMatchesReference) {
    SVG_NEED_CUDA();
    EXPECT_LE(decode_error("wan_vae_original", true, true), 1e-4);
}
TEST(WanVaeCuda, OriginalNamingEncodeMatchesReference) {
    SVG_NEED_CUDA();
    EXPECT_LE(encode_error("wan_vae_original", true, true).first, 1e-4);
}
// Same tiles and bounds as on the CPU (the seams, not the device, make the
// difference from the untiled decode).
TEST(WanVaeCuda, TiledDecodeStaysCloseToUntiled) {
    SVG_NEED_CUDA();
    check_tiled_decode(true);
}

TEST(WanVae, LatentNormalizationRoundTrips) {
    loaded_vae v("wan_vae", false);
    ASSERT_TRUE(v.ok);
    const vae_tensor z = svgtest::read_video(kData + "/goldens/wan_vae/decode.safetensors", "z");
    vae_tensor x = z;
    ASSERT_TRUE(wan_vae_denormalize(v.m, &x));
    // channel 1 of the first value: z / (1 / std) + mean
    const size_t plane = z.data.size() / 16;
    EXPECT_FLOAT_EQ(x.data[plane], z.data[plane] / (1.0f / 1.4541f) + -0.7089f);
    ASSERT_TRUE(wan_vae_normalize(v.m, &x));
    EXPECT_LE(svgtest::rel_l2(x.data, z.data), 1e-6);
}

TEST(WanVae, RejectsBadInputs) {
    loaded_vae v("wan_vae", false);
    ASSERT_TRUE(v.ok);
    vae_tensor z, video, mean, logvar;
    z.shape = {1, 8, 2, 4, 4};  // 8 channels, the VAE has 16
    z.data.assign(256, 0.f);
    EXPECT_FALSE(wan_vae_decode(v.m, v.be.get(), z, &video));
    EXPECT_NE(std::string(svg_last_error()).find("z must be [B, 16"), std::string::npos) << svg_last_error();
    EXPECT_FALSE(wan_vae_encode(v.m, v.be.get(), z, &mean, &logvar));
    vae_tiling t;
    t.tile_h = 20;  // not a multiple of 8
    z.shape[1] = 16;
    z.data.assign(512, 0.f);
    EXPECT_FALSE(wan_vae_decode_tiled(v.m, v.be.get(), z, t, &video));
}

}  // namespace
