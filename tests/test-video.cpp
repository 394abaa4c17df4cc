// Video output: the AVI container is parsed back (RIFF structure, index,
// JPEG frames decoded and compared), PNG folders decode exactly, and bad
// requests fail with a message.
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "src/video.h"
#include "test-common.h"

#define STB_IMAGE_STATIC
#define STB_IMAGE_IMPLEMENTATION
#include <stb_image.h>

namespace fs = std::filesystem;

namespace {

std::string tmp(const std::string &name) { return "/tmp/svg-test-video-" + std::to_string(getpid()) + "-" + name; }

// smooth random frames (JPEG-friendly): low-frequency sinusoids per channel
std::vector<uint8_t> frames(int n, int h, int w, uint32_t seed) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> d(0.f, 6.28f);
    std::vector<uint8_t> v((size_t)n * h * w * 3);
    for (int f = 0; f < n; f++)
        for (int c = 0; c < 3; c++) {
            const float a = d(rng), b = d(rng);
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++)
                    v[(((size_t)f * h + y) * w + x) * 3 + c] = (uint8_t)(127.5f + 100.f * std::sin(a + 0.11f * x) * std::cos(b + 0.07f * y));
        }
    return v;
}

uint32_t rd32(const std::vector<uint8_t> &b, size_t at) { return b[at] | b[at + 1] << 8 | b[at + 2] << 16 | (uint32_t)b[at + 3] << 24; }
std::string cc(const std::vector<uint8_t> &b, size_t at) { return std::string((const char *)&b[at], 4); }

double psnr(const uint8_t *a, const uint8_t *b, size_t n) {
    double se = 0;
    for (size_t i = 0; i < n; i++) se += (double)(a[i] - b[i]) * (a[i] - b[i]);
    return se == 0 ? 99 : 10 * std::log10(255.0 * 255.0 / (se / n));
}

TEST(Video, AviParsesBackWithIndexAndFrames) {
    const int n = 5, h = 48, w = 80, fps = 16;
    const auto rgb = frames(n, h, w, 1);
    const std::string path = tmp("a.avi");
    ASSERT_TRUE(svg_video_write(path, rgb.data(), n, h, w, fps)) << svg_last_error();
    std::ifstream f(path, std::ios::binary);
    std::vector<uint8_t> b((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    ASSERT_GT(b.size(), 200u);
    EXPECT_EQ(cc(b, 0), "RIFF");
    EXPECT_EQ(rd32(b, 4), b.size() - 8);
    EXPECT_EQ(cc(b, 8), "AVI ");
    EXPECT_EQ(cc(b, 12), "LIST");
    EXPECT_EQ(cc(b, 20), "hdrl");
    EXPECT_EQ(cc(b, 24), "avih");
    EXPECT_EQ(rd32(b, 32), 1000000u / fps);
    EXPECT_EQ(rd32(b, 32 + 16), (uint32_t)n);  // total frames
    EXPECT_EQ(rd32(b, 32 + 32), (uint32_t)w);
    EXPECT_EQ(rd32(b, 32 + 36), (uint32_t)h);
    // find movi and idx1
    size_t movi = 0, idx = 0;
    for (size_t p = 12; p + 8 <= b.size();) {
        const std::string id = cc(b, p);
        const uint32_t sz = rd32(b, p + 4);
        if (id == "LIST" && cc(b, p + 8) == "movi") movi = p + 8;
        if (id == "idx1") idx = p;
        p += 8 + sz + (sz & 1);
    }
    ASSERT_GT(movi, 0u);
    ASSERT_GT(idx, 0u);
    ASSERT_EQ(rd32(b, idx + 4), 16u * n);
    for (int i = 0; i < n; i++) {
        const size_t e = idx + 8 + 16 * i;
        EXPECT_EQ(cc(b, e), "00dc");
        const size_t chunk = movi + rd32(b, e + 8);
        const uint32_t len = rd32(b, e + 12);
        ASSERT_EQ(cc(b, chunk), "00dc");
        ASSERT_EQ(rd32(b, chunk + 4), len);
        int dw = 0, dh = 0, ch = 0;
        uint8_t *img = stbi_load_from_memory(&b[chunk + 8], (int)len, &dw, &dh, &ch, 3);
        ASSERT_NE(img, nullptr) << "frame " << i;
        EXPECT_EQ(dw, w);
        EXPECT_EQ(dh, h);
        EXPECT_GT(psnr(img, &rgb[(size_t)i * h * w * 3], (size_t)h * w * 3), 30.0) << "frame " << i;
        stbi_image_free(img);
    }
    unlink(path.c_str());
}

TEST(Video, PngFolderDecodesExactly) {
    const int n = 3, h = 17, w = 23;
    const auto rgb = frames(n, h, w, 2);
    const std::string dir = tmp("frames");
    ASSERT_TRUE(svg_video_write(dir, rgb.data(), n, h, w, 8)) << svg_last_error();
    for (int i = 0; i < n; i++) {
        char name[32];
        snprintf(name, sizeof name, "/frame_%05d.png", i);
        int dw, dh, ch;
        uint8_t *img = stbi_load((dir + name).c_str(), &dw, &dh, &ch, 3);
        ASSERT_NE(img, nullptr) << dir + name;
        EXPECT_EQ(0, memcmp(img, &rgb[(size_t)i * h * w * 3], (size_t)h * w * 3));
        stbi_image_free(img);
    }
    EXPECT_FALSE(fs::exists(dir + ".tmp." + std::to_string(getpid())));
    fs::remove_all(dir);
}

TEST(Video, FloatVideoToBytes) {
    // [F=1, 3, H=1, W=2]: channel planes → interleaved RGB, clamped, NaN → 0
    const float v[6] = {0.f, 1.f, 0.5f, 2.f, -1.f, NAN};
    const auto rgb = svg_video_to_rgb(v, 1, 1, 2);
    const std::vector<uint8_t> want = {0, 128, 0, 255, 255, 0};
    EXPECT_EQ(rgb, want);
}

TEST(Video, RejectsBadRequests) {
    const auto rgb = frames(1, 8, 8, 3);
    EXPECT_FALSE(svg_video_write(tmp("x.gif"), rgb.data(), 1, 8, 8, 16));
    EXPECT_NE(std::string(svg_last_error()).find("unknown video format"), std::string::npos);
    EXPECT_FALSE(svg_video_write(tmp("x.avi"), rgb.data(), 0, 8, 8, 16));
    EXPECT_FALSE(svg_video_write(tmp("x.avi"), rgb.data(), 1, 8, 8, 0));
    EXPECT_FALSE(svg_video_write("/nonexistent-dir/x.avi", rgb.data(), 1, 8, 8, 16));
    EXPECT_NE(std::string(svg_last_error()).find("/nonexistent-dir/x.avi"), std::string::npos);
    // mp4 without ffmpeg on PATH: a clear message, nothing written
    const char *old = getenv("PATH");
    const std::string saved = old ? old : "";
    setenv("PATH", "/nonexistent", 1);
    EXPECT_FALSE(svg_video_write(tmp("x.mp4"), rgb.data(), 1, 8, 8, 16));
    EXPECT_NE(std::string(svg_last_error()).find("ffmpeg"), std::string::npos);
    setenv("PATH", saved.c_str(), 1);
    EXPECT_FALSE(fs::exists(tmp("x.mp4")));
}

}  // namespace
