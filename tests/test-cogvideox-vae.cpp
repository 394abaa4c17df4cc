// CogVideoX VAE against AutoencoderKLCogVideoX: the shared golden (decode of
// 3 latent frames, encode of 9 video frames) and held-out cases made with the
// same weights by tests/data/cogvideox_vae_extra/make_extra.py: even and odd
// latent frame counts over several decoder batches, an encode over two
// 8-frame batches, and diffusers' tiled decode. CPU f32: rel L2 ≤ 1e-4; the
// CogVideoXVaeCuda suite repeats them on the GPU (f32 there too).
#include <string>

#include "models/cogvideox-vae.h"
#include "test-common.h"
#include "test-models.h"

namespace {

const std::string kData = SVG_TEST_DATA;

struct loaded {
    svgtest::converted file;
    cogvideox_vae m;
    bool ok = false;
    loaded(const std::string &folder, bool cuda)
        : file({svgtest::source(folder)}, cuda, "cogvideox-vae") {
        ok = file.ok() && cogvideox_vae_load(file.f.get(), file.be.get(), &m);
        EXPECT_TRUE(ok) << svg_last_error();
    }
};

double decode_error(const std::string &folder, const std::string &cse, bool tiled, bool cuda) {
    loaded v(folder, cuda);
    if (!v.ok) return INFINITY;
    vae_tensor video;
    if (!cogvideox_vae_decode(v.m, v.file.be.get(), svgtest::read_video(cse, "z"), tiled, &video)) {
        ADD_FAILURE() << svg_last_error();
        return INFINITY;
    }
    const vae_tensor ref = svgtest::read_video(cse, "video");
    EXPECT_EQ(video.shape, ref.shape);
    return svgtest::rel_l2(video.data, ref.data);
}

double encode_error(const std::string &cse, bool cuda) {
    loaded v(kData + "/goldens/cogvideox_vae/vae", cuda);
    if (!v.ok) return INFINITY;
    vae_tensor mean, logvar;
    if (!cogvideox_vae_encode(v.m, v.file.be.get(), svgtest::read_video(cse, "video"), &mean, &logvar)) {
        ADD_FAILURE() << svg_last_error();
        return INFINITY;
    }
    const vae_tensor ref_mean = svgtest::read_video(cse, "mean"), ref_logvar = svgtest::read_video(cse, "logvar");
    EXPECT_EQ(mean.shape, ref_mean.shape);
    EXPECT_EQ(logvar.shape, ref_logvar.shape);
    return std::max(svgtest::rel_l2(mean.data, ref_mean.data), svgtest::rel_l2(logvar.data, ref_logvar.data));
}

const std::string kGolden = kData + "/goldens/cogvideox_vae";
const std::string kExtra = kData + "/cogvideox_vae_extra";

void all_cases(bool cuda) {
    EXPECT_LE(decode_error(kGolden + "/vae", kGolden + "/decode.safetensors", false, cuda), 1e-4);
    EXPECT_LE(encode_error(kGolden + "/encode.safetensors", cuda), 1e-4);
    EXPECT_LE(decode_error(kGolden + "/vae", kExtra + "/decode_even.safetensors", false, cuda), 1e-4);
    EXPECT_LE(decode_error(kGolden + "/vae", kExtra + "/decode_odd.safetensors", false, cuda), 1e-4);
    EXPECT_LE(encode_error(kExtra + "/encode_long.safetensors", cuda), 1e-4);
    EXPECT_LE(decode_error(kExtra + "/vae_tiles", kExtra + "/decode_tiled.safetensors", true, cuda), 1e-4);
}

}  // namespace

TEST(CogVideoXVae, MatchesTheReference) { all_cases(false); }

TEST(CogVideoXVaeCuda, MatchesTheReference) {
    SVG_NEED_CUDA();
    all_cases(true);
}

TEST(CogVideoXVae, ReadsItsConfig) {
    loaded v(kExtra + "/vae_tiles", false);
    ASSERT_TRUE(v.ok);
    EXPECT_EQ(v.m.z_dim, 16);
    EXPECT_EQ(v.m.stages, 4);
    EXPECT_EQ(v.m.temporal_levels, 2);
    EXPECT_EQ(v.m.spatial_factor, 8);
    EXPECT_EQ(v.m.groups, 4);
    // enable_tiling's rule on sample 96x80: tiles of 48x40 pixels every 40x32
    EXPECT_EQ(v.m.tiling.tile_h, 48);
    EXPECT_EQ(v.m.tiling.tile_w, 40);
    EXPECT_EQ(v.m.tiling.stride_h, 40);
    EXPECT_EQ(v.m.tiling.stride_w, 32);
    for (int64_t t : {1, 2, 3, 4, 13, 21}) EXPECT_EQ(cogvideox_vae_frames(v.m, t), t % 2 ? 4 * t - 3 : 4 * t) << t;
}

TEST(CogVideoXVae, RejectsBadInputs) {
    loaded v(kGolden + "/vae", false);
    ASSERT_TRUE(v.ok);
    vae_tensor z, video, mean, logvar;
    z.shape = {1, 8, 2, 4, 4};  // 8 channels, the VAE has 16
    z.data.assign(256, 0.5f);
    EXPECT_FALSE(cogvideox_vae_decode(v.m, v.file.be.get(), z, false, &video));
    EXPECT_NE(std::string(svg_last_error()).find("z must be [B, 16"), std::string::npos) << svg_last_error();
    video.shape = {1, 3, 9, 20, 16};  // 20 rows: not a multiple of 8
    video.data.assign(9 * 3 * 20 * 16, 0.5f);
    EXPECT_FALSE(cogvideox_vae_encode(v.m, v.file.be.get(), video, &mean, &logvar));
    EXPECT_NE(std::string(svg_last_error()).find("multiple of 8"), std::string::npos) << svg_last_error();
}
