// ggml's k-quants (src/quants-k.h): round trips stay within each type's
// error, edge blocks (zero, constant, one-signed, tiny) stay finite and
// exact where they can, the CPU matmul on k-quant weights equals the f32
// one on the dequantized weights, and gguf-py (the reference reader)
// dequantizes our blocks to the same values — the layouts are ggml's.
#include <unistd.h>

#include <cmath>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "test-common.h"

#include "svg.h"

namespace {

const svg_type kKTypes[] = {SVG_TYPE_Q4_K, SVG_TYPE_Q5_K, SVG_TYPE_Q6_K};

std::vector<float> round_trip(svg_type type, const std::vector<float> &x) {
    const svg_type_traits *tr = svg_type_traits_of(type);
    std::vector<uint8_t> q(svg_row_size(type, (int64_t)x.size()), 0xAB);  // poisoned
    std::vector<float> y(x.size(), NAN);
    tr->from_float(x.data(), q.data(), (int64_t)x.size());
    tr->to_float(q.data(), y.data(), (int64_t)x.size());
    return y;
}

std::vector<float> gaussian(size_t n, uint32_t seed, float outlier_every = 0) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> nd(0.3f, 1.f);
    std::vector<float> v(n);
    for (size_t i = 0; i < n; i++) v[i] = nd(rng) * (outlier_every > 0 && i % (size_t)outlier_every == 7 ? 12.f : 1.f);
    return v;
}

}  // namespace

TEST(KQuants, TypesAreGgmls) {
    const struct {
        svg_type t;
        int id;
        const char *name;
        size_t bytes;
    } want[] = {{SVG_TYPE_Q4_K, 12, "q4_K", 144}, {SVG_TYPE_Q5_K, 13, "q5_K", 176}, {SVG_TYPE_Q6_K, 14, "q6_K", 210}};
    for (const auto &w : want) {
        EXPECT_EQ((int)w.t, w.id);
        const svg_type_traits *tr = svg_type_traits_of(w.t);
        ASSERT_NE(tr, nullptr);
        EXPECT_STREQ(tr->name, w.name);
        EXPECT_EQ(tr->block_size, 256);
        EXPECT_EQ(tr->type_size, w.bytes);
        EXPECT_TRUE(tr->is_quantized);
        svg_type parsed;
        EXPECT_TRUE(svg_type_from_name("Q4_k", &parsed) && parsed == SVG_TYPE_Q4_K);
    }
}

// Relative L2 error of a round trip: q6_K < q5_K < q4_K, each within its
// bound, and q4_K better than q4_0 (its scales per 32 values and minimums).
TEST(KQuants, RoundTripError) {
    for (float outliers : {0.f, 53.f}) {
        const std::vector<float> x = gaussian(256 * 64, 9, outliers);
        const double e4 = svgtest::rel_l2(round_trip(SVG_TYPE_Q4_K, x), x), e5 = svgtest::rel_l2(round_trip(SVG_TYPE_Q5_K, x), x),
                     e6 = svgtest::rel_l2(round_trip(SVG_TYPE_Q6_K, x), x), e40 = svgtest::rel_l2(round_trip(SVG_TYPE_Q4_0, x), x);
        printf("outliers %g: rel L2 q4_K %.4f q5_K %.4f q6_K %.4f (q4_0 %.4f)\n", outliers, e4, e5, e6, e40);
        // Gaussian values: about 0.07 / 0.035 / 0.019; every 53rd value 12× larger: 0.10 / 0.05 / 0.032
        EXPECT_LT(e4, outliers > 0 ? 0.12 : 0.08);
        EXPECT_LT(e5, outliers > 0 ? 0.06 : 0.04);
        EXPECT_LT(e6, outliers > 0 ? 0.04 : 0.022);
        EXPECT_LT(e6, e5);
        EXPECT_LT(e5, e4);
        EXPECT_LT(e4, e40);
    }
}

TEST(KQuants, EdgeBlocks) {
    for (svg_type type : kKTypes) {
        const char *name = svg_type_name(type);
        const std::vector<float> zeros(512, 0.f);
        EXPECT_EQ(round_trip(type, zeros), zeros) << name;
        for (float c : {1.f, -3.f, 1e-3f, 6e4f}) {
            const std::vector<float> x(256, c), y = round_trip(type, x);
            for (float v : y) ASSERT_TRUE(std::isfinite(v)) << name << " " << c;
            EXPECT_LE(svgtest::rel_l2(y, x), 0.05) << name << " constant " << c;
        }
        // below fp16's range (the block scales are fp16, as in ggml): zeros, never NaN
        const std::vector<float> tiny(256, 1e-8f);
        EXPECT_EQ(round_trip(type, tiny), std::vector<float>(256, 0.f)) << name;
        std::vector<float> pos = gaussian(256, 3), neg = pos;
        for (size_t i = 0; i < pos.size(); i++) pos[i] = std::fabs(pos[i]) + 2.f, neg[i] = -pos[i];
        EXPECT_LE(svgtest::rel_l2(round_trip(type, pos), pos), 0.05) << name << " positive";
        EXPECT_LE(svgtest::rel_l2(round_trip(type, neg), neg), 0.05) << name << " negative";
    }
}

// y = x · Wᵀ with W in a k-quant type equals the f32 product with W dequantized.
TEST(KQuants, CpuMatMulReadsTheBlocks) {
    std::mt19937 rng(4);
    for (svg_type type : kKTypes) {
        const int64_t M = 5, N = 7, K = 512;
        const std::vector<float> wf = gaussian((size_t)(N * K), 21);
        std::vector<uint8_t> wq(svg_row_size(type, K) * N);
        svg_type_traits_of(type)->from_float(wf.data(), wq.data(), N * K);
        svg_context *ctx = svg_context_new(false);
        svg_tensor *x = svg_new_tensor_2d(ctx, SVG_TYPE_F32, M, K), *w = svg_new_tensor_2d(ctx, type, N, K),
                   *wd = svg_new_tensor_2d(ctx, SVG_TYPE_F32, N, K);
        svgtest::fill_random(x, rng);
        ASSERT_TRUE(svg_tensor_set(w, wq.data(), 0, wq.size())) << svg_last_error();
        std::vector<float> deq((size_t)(N * K));
        svg_type_traits_of(type)->to_float(wq.data(), deq.data(), N * K);
        ASSERT_TRUE(svg_tensor_set_f32(wd, deq.data(), N * K));
        svg_tensor *yq = svg_mul_mat(ctx, x, w), *yd = svg_mul_mat(ctx, x, wd);
        ASSERT_TRUE(svgtest::compute(ctx, yq) && svgtest::compute(ctx, yd)) << svg_last_error();
        EXPECT_LE(svgtest::rel_l2(svgtest::to_vec(yq), svgtest::to_vec(yd)), 1e-6) << svg_type_name(type);
        svg_context_free(ctx);
    }
}

// gguf-py dequantizes the blocks svg.cpp writes to svg.cpp's own values.
TEST(KQuants, GgufPyDequantizesAlike) {
    if (std::system("python3 -c 'import gguf' >/dev/null 2>&1") != 0) GTEST_SKIP() << "python3 with the gguf package not available";
    const std::string path = "/tmp/svg-test-kquants-" + std::to_string(getpid()) + ".gguf";
    svg_gguf_writer *w = svg_gguf_writer_new();
    const int64_t shape[2] = {3, 512};
    for (svg_type type : kKTypes) {
        const std::vector<float> x = gaussian(3 * 512, 30 + (uint32_t)type, 41.f);
        std::vector<uint8_t> q(svg_row_size(type, 512) * 3);
        std::vector<float> ref(x.size());
        svg_type_traits_of(type)->from_float(x.data(), q.data(), (int64_t)x.size());
        svg_type_traits_of(type)->to_float(q.data(), ref.data(), (int64_t)x.size());
        const std::string name = std::string("w.") + svg_type_name(type);
        ASSERT_TRUE(svg_gguf_writer_add_tensor_data(w, name.c_str(), type, 2, shape, q.data(), q.size())) << svg_last_error();
        ASSERT_TRUE(svg_gguf_writer_add_tensor_data(w, (name + ".ref").c_str(), SVG_TYPE_F32, 2, shape, ref.data(), ref.size() * 4))
            << svg_last_error();
    }
    ASSERT_TRUE(svg_gguf_writer_write(w, path.c_str())) << svg_last_error();
    svg_gguf_writer_free(w);
    const std::string cmd = "python3 '" + std::string(SVG_TEST_DATA) + "/../gguf_crosscheck.py' dequant '" + path + "'";
    EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
    unlink(path.c_str());
}
