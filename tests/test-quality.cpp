// PSNR and SSIM (src/image.h), the metrics svg-run --compare-dense reports:
// closed forms on constant frames, identity, anti-correlation.
#include <cmath>
#include <random>
#include <vector>

#include "src/image.h"
#include "test-common.h"

namespace {

std::vector<uint8_t> constant(int frames, int h, int w, uint8_t v) { return std::vector<uint8_t>((size_t)frames * h * w * 3, v); }

TEST(Quality, PsnrClosedForm) {
    const auto a = constant(2, 16, 16, 100), b = constant(2, 16, 16, 110);
    EXPECT_NEAR(svg_psnr(a.data(), b.data(), a.size()), 10 * std::log10(255.0 * 255.0 / 100.0), 1e-9);
    EXPECT_TRUE(std::isinf(svg_psnr(a.data(), a.data(), a.size())));
}

TEST(Quality, SsimClosedFormAndBounds) {
    // constant frames: no variance, so SSIM = (2ab + C1) / (a² + b² + C1)
    const double C1 = (0.01 * 255) * (0.01 * 255);
    const auto a = constant(3, 20, 24, 100), b = constant(3, 20, 24, 140);
    EXPECT_NEAR(svg_ssim(a.data(), b.data(), 3, 20, 24), (2.0 * 100 * 140 + C1) / (100.0 * 100 + 140.0 * 140 + C1), 1e-9);
    std::mt19937 rng(1);
    std::vector<uint8_t> x((size_t)2 * 32 * 40 * 3), inv(x.size()), noisy(x.size());
    for (size_t i = 0; i < x.size(); i++) {
        x[i] = (uint8_t)(rng() % 256);
        inv[i] = (uint8_t)(255 - x[i]);
        noisy[i] = (uint8_t)std::min(255, std::max(0, (int)x[i] + (int)(rng() % 21) - 10));
    }
    EXPECT_NEAR(svg_ssim(x.data(), x.data(), 2, 32, 40), 1.0, 1e-12);
    EXPECT_LT(svg_ssim(x.data(), inv.data(), 2, 32, 40), 0.0);  // anti-correlated
    const double s = svg_ssim(x.data(), noisy.data(), 2, 32, 40);
    EXPECT_GT(s, 0.8);
    EXPECT_LT(s, 1.0);
    // frames smaller than the window still give a finite value
    EXPECT_TRUE(std::isfinite(svg_ssim(x.data(), noisy.data(), 1, 4, 6)));
}

}  // namespace
