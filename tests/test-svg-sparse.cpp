// Sparse VideoGen ops on the CPU reference backend: the layout transform,
// the band mask, density, and online profiling (svg.h, "Sparse VideoGen").
// The mask is recomputed here from svg_sparse_position alone, so the
// reference kernels are checked against an independent statement of it.
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "src/svg-impl.h"  // svg_sparse_sample_row: the rows profiling samples
#include "test-common.h"

namespace {

const int kToBHLD[4] = {0, 2, 1, 3};  // [B, L, H, D] viewed as [B, H, L, D]

int64_t length(const svg_sparse_layout &l) { return l.text_before + l.frames * l.tokens_per_frame + l.text_after; }

// Query row i sees key row j (rows in a head of `kind`'s order), from svg.h's words.
bool visible(const svg_sparse_layout &l, int64_t i, int64_t j) {
    const int64_t v0 = l.text_before, v1 = v0 + l.frames * l.tokens_per_frame;
    if (i < v0 || i >= v1 || j < v0 || j >= v1) return true;
    if (j - v0 < l.sink_frames * l.tokens_per_frame) return true;
    return std::llabs((i - v0) - (j - v0)) <= l.band;
}

// Frame-major video index u of a temporal head's video position p (inverting svg_sparse_position).
int64_t frame_major_of(const svg_sparse_layout &l, enum svg_head_kind kind, int64_t p) {
    for (int64_t f = 0; f < l.frames; f++)
        for (int64_t s = 0; s < l.tokens_per_frame; s++)
            if (svg_sparse_position(&l, kind, f, s) == p) return f * l.tokens_per_frame + s;
    return -1;
}

struct Ctx {
    svg_context *ctx = svg_context_new(false);
    ~Ctx() { svg_context_free(ctx); }
};

std::vector<svg_sparse_layout> layouts() {
    return {
        {0, 5, 12, 0, 1, 16},  // Wan-like: no text, one sink frame, odd frame count
        {7, 3, 10, 0, 0, 9},   // text first (CogVideoX), band not a block multiple
        {0, 4, 9, 6, 0, 20},   // text last (HunyuanVideo)
        {5, 3, 7, 4, 1, 0},    // text on both sides, band 0 (sink only)
    };
}

TEST(SparsePermute, MovesTemporalHeadsAndInverts) {
    std::mt19937 rng(1);
    for (const svg_sparse_layout &l : layouts()) {
        Ctx r;
        const int64_t B = 2, H = 3, D = 5, L = length(l);
        svg_tensor *x = svg_new_tensor_4d(r.ctx, SVG_TYPE_F32, B, L, H, D);
        svg_tensor *kinds = svg_new_tensor_3d(r.ctx, SVG_TYPE_F32, B, H, 3);
        const std::vector<float> xv = svgtest::fill_random(x, rng);
        std::vector<float> kv((size_t)(B * H * 3), 0.f);
        for (int64_t t = 0; t < B * H; t++) kv[(size_t)t * 3] = (float)((t + 1) % 2);  // mixed kinds
        ASSERT_TRUE(svg_tensor_set_f32(kinds, kv.data(), (int64_t)kv.size()));
        svg_tensor *p = svg_sparse_permute(r.ctx, x, kinds, &l, false);
        svg_tensor *back = svg_sparse_permute(r.ctx, p, kinds, &l, true);
        ASSERT_TRUE(svgtest::compute(r.ctx, back));
        EXPECT_EQ(svgtest::to_vec(back), xv);  // exactly the identity
        const std::vector<float> pv = svgtest::to_vec(p);
        for (int64_t b = 0; b < B; b++)
            for (int64_t h = 0; h < H; h++) {
                const enum svg_head_kind kind = kv[(size_t)(b * H + h) * 3] != 0.f ? SVG_HEAD_TEMPORAL : SVG_HEAD_SPATIAL;
                for (int64_t row = 0; row < L; row++) {
                    const int64_t v = row - l.text_before;
                    const bool video = v >= 0 && v < l.frames * l.tokens_per_frame;
                    const int64_t src = video ? l.text_before + frame_major_of(l, kind, v) : row;
                    for (int64_t d = 0; d < D; d++)
                        ASSERT_EQ(pv[(size_t)(((b * L + row) * H + h) * D + d)], xv[(size_t)(((b * L + src) * H + h) * D + d)])
                            << "b" << b << " h" << h << " row " << row;
                }
            }
    }
}

// Sparse attention equals dense attention under an additive mask built here.
TEST(SparseAttention, EqualsMaskedDense) {
    std::mt19937 rng(2);
    for (const svg_sparse_layout &l : layouts())
        for (bool key_mask : {false, true}) {
            Ctx r;
            const int64_t B = 2, H = 4, Hkv = 2, D = 8, L = length(l);
            svg_tensor *q = svg_new_tensor_4d(r.ctx, SVG_TYPE_F32, B, L, H, D);
            svg_tensor *k = svg_new_tensor_4d(r.ctx, SVG_TYPE_F32, B, L, Hkv, D);
            svg_tensor *v = svg_new_tensor_4d(r.ctx, SVG_TYPE_F32, B, L, Hkv, D);
            svg_tensor *bias = svg_new_tensor_4d(r.ctx, SVG_TYPE_F32, 1, 1, L, L);
            svg_tensor *km = key_mask ? svg_new_tensor_2d(r.ctx, SVG_TYPE_F32, B, L) : nullptr;
            for (svg_tensor *t : {q, k, v}) svgtest::fill_random(t, rng, -2.f, 2.f);
            std::vector<float> bv((size_t)(L * L));
            for (int64_t i = 0; i < L; i++)
                for (int64_t j = 0; j < L; j++) bv[(size_t)(i * L + j)] = visible(l, i, j) ? 0.f : -INFINITY;
            ASSERT_TRUE(svg_tensor_set_f32(bias, bv.data(), (int64_t)bv.size()));
            if (km) {  // padded text: the last text tokens of batch 1 masked out
                std::vector<float> mv((size_t)(B * L), 1.f);
                for (int64_t j = 0; j < L; j++)
                    if (j >= l.text_before + l.frames * l.tokens_per_frame + l.text_after / 2 || (l.text_after == 0 && j < l.text_before / 2))
                        mv[(size_t)(L + j)] = 0.f;
                ASSERT_TRUE(svg_tensor_set_f32(km, mv.data(), (int64_t)mv.size()));
            }
            svg_tensor *qh = svg_permute(r.ctx, q, kToBHLD), *kh = svg_permute(r.ctx, k, kToBHLD), *vh = svg_permute(r.ctx, v, kToBHLD);
            const float scale = 0.35f;
            svg_tensor *sparse = svg_attention_sparse(r.ctx, qh, kh, vh, km, scale, &l);
            svg_tensor *dense = svg_attention(r.ctx, qh, kh, vh, bias, km, scale, false);
            ASSERT_TRUE(svgtest::compute(r.ctx, sparse) && svgtest::compute(r.ctx, dense));
            EXPECT_LE(svgtest::rel_l2(svgtest::to_vec(sparse), svgtest::to_vec(dense)), 1e-6)
                << "text " << l.text_before << "/" << l.text_after << " key mask " << key_mask;
        }
}

TEST(SparseAttention, FullBandEqualsDense) {
    std::mt19937 rng(3);
    svg_sparse_layout l{4, 3, 11, 2, 1, 0};
    l.band = svg_sparse_band_for_density(&l, 1.0, 64);
    EXPECT_DOUBLE_EQ(svg_sparse_density(&l), 1.0);
    Ctx r;
    const int64_t L = length(l);
    svg_tensor *q = svg_new_tensor_4d(r.ctx, SVG_TYPE_F32, 1, 2, L, 16), *k = svg_new_tensor_4d(r.ctx, SVG_TYPE_F32, 1, 2, L, 16),
               *v = svg_new_tensor_4d(r.ctx, SVG_TYPE_F32, 1, 2, L, 16);
    for (svg_tensor *t : {q, k, v}) svgtest::fill_random(t, rng);
    svg_tensor *a = svg_attention_sparse(r.ctx, q, k, v, nullptr, 0.25f, &l), *b = svg_attention(r.ctx, q, k, v, nullptr, nullptr, 0.25f, false);
    ASSERT_TRUE(svgtest::compute(r.ctx, a) && svgtest::compute(r.ctx, b));
    EXPECT_EQ(svgtest::to_vec(a), svgtest::to_vec(b));
}

TEST(SparseDensity, CountsPairsAndPicksTheBand) {
    for (const svg_sparse_layout &base : layouts()) {
        for (int64_t band : {0, 5, 13, 40, 1000}) {
            svg_sparse_layout l = base;
            l.band = band;
            const int64_t L = length(l);
            int64_t kept = 0;
            for (int64_t i = 0; i < L; i++)
                for (int64_t j = 0; j < L; j++) kept += visible(l, i, j);
            EXPECT_NEAR(svg_sparse_density(&l), (double)kept / (double)(L * L), 1e-12) << "band " << band;
        }
        for (double d : {0.05, 0.3, 0.6, 0.95}) {
            svg_sparse_layout l = base;
            l.band = svg_sparse_band_for_density(&l, d, 8);
            EXPECT_EQ(l.band % 8, 0);
            EXPECT_GE(l.band, 8);
            if (l.band > 8) {
                EXPECT_LE(svg_sparse_density(&l), d);
            }
            svg_sparse_layout wider = l;
            wider.band += 8;
            if (wider.band <= l.frames * l.tokens_per_frame) {
                EXPECT_GT(svg_sparse_density(&wider), d);
            }
        }
    }
}

// Profiling decisions and errors against a double-precision reference over
// the same sampled rows.
TEST(SparseProfile, MatchesReference) {
    std::mt19937 rng(4);
    for (const svg_sparse_layout &l : layouts()) {
        Ctx r;
        const int64_t B = 2, H = 3, D = 8, L = length(l);
        const int rows = 7;
        const uint32_t seed = 99;
        const float scale = 0.5f;
        svg_tensor *q = svg_new_tensor_4d(r.ctx, SVG_TYPE_F32, B, H, L, D), *k = svg_new_tensor_4d(r.ctx, SVG_TYPE_F32, B, H, L, D),
                   *v = svg_new_tensor_4d(r.ctx, SVG_TYPE_F32, B, H, L, D);
        const std::vector<float> qv = svgtest::fill_random(q, rng, -2.f, 2.f), kv = svgtest::fill_random(k, rng, -2.f, 2.f),
                                 vv = svgtest::fill_random(v, rng);
        svg_tensor *prof = svg_sparse_profile(r.ctx, q, k, v, nullptr, scale, &l, rows, seed);
        ASSERT_TRUE(svgtest::compute(r.ctx, prof));
        const std::vector<float> got = svgtest::to_vec(prof);
        const int64_t V = l.frames * l.tokens_per_frame;
        for (int64_t b = 0; b < B; b++)
            for (int64_t h = 0; h < H; h++) {
                auto at = [&](const std::vector<float> &t, int64_t i, int64_t d) { return (double)t[(size_t)(((b * H + h) * L + i) * D + d)]; };
                double mse[3] = {0, 0, 0};
                for (int s = 0; s < rows; s++) {
                    const int64_t u = svg_sparse_sample_row(seed, b, h, s, V), i = l.text_before + u;
                    std::vector<double> o[3];
                    for (int mode = 0; mode < 3; mode++) {
                        o[mode].assign((size_t)D, 0.0);
                        const enum svg_head_kind kind = mode == 2 ? SVG_HEAD_TEMPORAL : SVG_HEAD_SPATIAL;
                        double mx = -INFINITY, sum = 0;
                        std::vector<double> sc((size_t)L, -INFINITY);
                        for (int64_t j = 0; j < L; j++) {
                            const int64_t vj = j - l.text_before;
                            bool vis = true;
                            if (mode > 0 && vj >= 0 && vj < V) {
                                const int64_t pi = svg_sparse_position(&l, kind, u / l.tokens_per_frame, u % l.tokens_per_frame),
                                              pj = svg_sparse_position(&l, kind, vj / l.tokens_per_frame, vj % l.tokens_per_frame);
                                vis = visible(l, l.text_before + pi, l.text_before + pj);
                            }
                            if (!vis) continue;
                            double dot = 0;
                            for (int64_t d = 0; d < D; d++) dot += at(qv, i, d) * at(kv, j, d);
                            sc[(size_t)j] = dot * scale;
                            mx = std::max(mx, sc[(size_t)j]);
                        }
                        for (int64_t j = 0; j < L; j++) {
                            if (sc[(size_t)j] == -INFINITY) continue;
                            const double p = std::exp(sc[(size_t)j] - mx);
                            sum += p;
                            for (int64_t d = 0; d < D; d++) o[mode][(size_t)d] += p * at(vv, j, d);
                        }
                        for (double &x : o[mode]) x /= sum;
                    }
                    for (int mode = 1; mode < 3; mode++)
                        for (int64_t d = 0; d < D; d++) mse[mode] += std::pow(o[mode][(size_t)d] - o[0][(size_t)d], 2) / (rows * D);
                }
                const float *g = &got[(size_t)(b * H + h) * 3];
                EXPECT_EQ(g[0], mse[2] < mse[1] ? 1.f : 0.f) << "b" << b << " h" << h;
                EXPECT_NEAR(g[1], mse[1], 1e-5 * std::max(1.0, mse[1]));
                EXPECT_NEAR(g[2], mse[2], 1e-5 * std::max(1.0, mse[2]));
            }
    }
}

// Heads whose attention really is frame-local, or really follows one spatial
// position across frames, are classified as such; SVG's output (permute →
// sparse attention → unpermute) is then far closer to dense attention than
// the output under the other head kind's mask.
TEST(SparseProfile, ClassifiesSyntheticHeads) {
    const int64_t F = 6, T = 16, H = 2, D = 32, L = F * T;
    svg_sparse_layout l{0, F, T, 0, 0, T};  // band: one frame's worth of tokens
    Ctx r;
    svg_tensor *q = svg_new_tensor_4d(r.ctx, SVG_TYPE_F32, 1, L, H, D), *k = svg_new_tensor_4d(r.ctx, SVG_TYPE_F32, 1, L, H, D),
               *v = svg_new_tensor_4d(r.ctx, SVG_TYPE_F32, 1, L, H, D);
    std::vector<float> qv((size_t)(L * H * D), 0.f), kv = qv;
    std::mt19937 rng(5);
    svgtest::fill_random(v, rng);
    for (int64_t u = 0; u < L; u++) {
        const int64_t f = u / T, s = u % T;
        for (int64_t d = 0; d < D; d++) {
            // head 0: similarity decays with token distance inside a frame, none across frames
            const double a0 = 2 * M_PI * s * (d % 8) / (4.0 * T);
            const float e0 = d < 16 ? (float)std::cos(a0) : (float)std::sin(a0);
            qv[(size_t)((u * H + 0) * D + d)] = kv[(size_t)((u * H + 0) * D + d)] = (d == 16 + f % 16 ? 6.f : 0.f) + 0.8f * e0;
            // head 1: the same spatial position in every frame, weakly nearby frames
            const float e1 = d == s % D ? 6.f : 0.f;
            qv[(size_t)((u * H + 1) * D + d)] = kv[(size_t)((u * H + 1) * D + d)] = e1 + (d == (T + f) % D ? 0.5f : 0.f);
        }
    }
    ASSERT_TRUE(svg_tensor_set_f32(q, qv.data(), (int64_t)qv.size()) && svg_tensor_set_f32(k, kv.data(), (int64_t)kv.size()));
    svg_tensor *qh = svg_permute(r.ctx, q, kToBHLD), *kh = svg_permute(r.ctx, k, kToBHLD), *vh = svg_permute(r.ctx, v, kToBHLD);
    const float scale = 1.f / std::sqrt((float)D);
    svg_tensor *kinds = svg_sparse_profile(r.ctx, qh, kh, vh, nullptr, scale, &l, 16, 7);
    ASSERT_TRUE(svgtest::compute(r.ctx, kinds));
    const std::vector<float> kd = svgtest::to_vec(kinds);
    EXPECT_EQ(kd[0], 0.f) << "mse spatial " << kd[1] << " temporal " << kd[2];
    EXPECT_EQ(kd[3], 1.f) << "mse spatial " << kd[4] << " temporal " << kd[5];
    // SVG with the decided kinds, and with the kinds swapped
    svg_tensor *dense = svg_attention(r.ctx, qh, kh, vh, nullptr, nullptr, scale, false);
    svg_tensor *swapped = svg_new_tensor_3d(r.ctx, SVG_TYPE_F32, 1, H, 3);
    const float sw[6] = {1, 0, 0, 0, 0, 0};
    ASSERT_TRUE(svg_tensor_set_f32(swapped, sw, 6));
    auto svg_attn = [&](svg_tensor *kd_t) {
        svg_tensor *pq = svg_sparse_permute(r.ctx, q, kd_t, &l, false), *pk = svg_sparse_permute(r.ctx, k, kd_t, &l, false),
                   *pv = svg_sparse_permute(r.ctx, v, kd_t, &l, false);
        svg_tensor *o = svg_attention_sparse(r.ctx, svg_permute(r.ctx, pq, kToBHLD), svg_permute(r.ctx, pk, kToBHLD),
                                             svg_permute(r.ctx, pv, kToBHLD), nullptr, scale, &l);
        return svg_sparse_permute(r.ctx, o, kd_t, &l, true);
    };
    svg_tensor *right = svg_attn(kinds), *wrong = svg_attn(swapped);
    ASSERT_TRUE(svgtest::compute(r.ctx, dense) && svgtest::compute(r.ctx, right) && svgtest::compute(r.ctx, wrong));
    const std::vector<float> dv = svgtest::to_vec(dense);
    const double e_right = svgtest::rel_l2(svgtest::to_vec(right), dv), e_wrong = svgtest::rel_l2(svgtest::to_vec(wrong), dv);
    EXPECT_LT(e_right, 0.1 * e_wrong) << "right kinds " << e_right << ", swapped " << e_wrong;
}

TEST(Sparse, RejectsBadInputs) {
    Ctx r;
    svg_sparse_layout l{0, 3, 4, 0, 1, 4};
    svg_tensor *x = svg_new_tensor_4d(r.ctx, SVG_TYPE_F32, 1, 13, 2, 8);  // 13 tokens, the layout has 12
    svg_tensor *kinds = svg_new_tensor_3d(r.ctx, SVG_TYPE_F32, 1, 2, 3);
    EXPECT_EQ(svg_sparse_permute(r.ctx, x, kinds, &l, false), nullptr);
    EXPECT_NE(std::string(svg_last_error()).find("L=12"), std::string::npos) << svg_last_error();
    svg_tensor *x12 = svg_new_tensor_4d(r.ctx, SVG_TYPE_F32, 1, 12, 2, 8);
    svg_tensor *bad_kinds = svg_new_tensor_3d(r.ctx, SVG_TYPE_F32, 1, 3, 3);
    EXPECT_EQ(svg_sparse_permute(r.ctx, x12, bad_kinds, &l, false), nullptr);
    svg_tensor *qh = svg_permute(r.ctx, x, kToBHLD);
    EXPECT_EQ(svg_attention_sparse(r.ctx, qh, qh, qh, nullptr, 1.f, &l), nullptr);
    EXPECT_NE(std::string(svg_last_error()).find("layout has 12 tokens"), std::string::npos) << svg_last_error();
    svg_sparse_layout bad = l;
    bad.sink_frames = 4;
    svg_tensor *q12 = svg_permute(r.ctx, x12, kToBHLD);
    EXPECT_EQ(svg_sparse_profile(r.ctx, q12, q12, q12, nullptr, 1.f, &bad, 4, 1), nullptr);
    EXPECT_EQ(svg_sparse_profile(r.ctx, q12, q12, q12, nullptr, 1.f, &l, 0, 1), nullptr);
}

}  // namespace
