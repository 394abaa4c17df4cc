// CPU kernels of the neural-network ops (norms, group norm, mul_mat / linear,
// conv3d / conv2d, timestep embedding, rope, attention) against
// straightforward reference loops with double accumulation, on random inputs
// at several shapes (odd sizes included).
#include "test-common.h"

#include <algorithm>
#include <cstdint>
#include <numeric>
#include <sstream>
#include <string>
#include <vector>

using namespace svgtest;

namespace {

constexpr double kTol = 1e-4;

// RAII context (host memory allocated at tensor creation).
struct Ctx {
    svg_context *c = svg_context_new(false);
    ~Ctx() { svg_context_free(c); }
    operator svg_context *() const { return c; }
};

using Shape = std::vector<int64_t>;

svg_tensor *new_t(svg_context *ctx, svg_type type, const Shape &ne) {
    svg_tensor *t = svg_new_tensor(ctx, type, (int)ne.size(), ne.data());
    EXPECT_NE(t, nullptr) << svg_last_error();
    return t;
}

int64_t prod(const Shape &ne, size_t b = 0, size_t e = SIZE_MAX) {
    int64_t p = 1;
    for (size_t i = b; i < std::min(e, ne.size()); i++) p *= ne[i];
    return p;
}

std::string shape_str(const Shape &ne) {
    std::ostringstream s;
    s << "[";
    for (size_t i = 0; i < ne.size(); i++) s << (i ? "," : "") << ne[i];
    s << "]";
    return s.str();
}

// Linear index into a contiguous tensor of shape pne (right-aligned onto ne,
// size-1 dims broadcast) of the element at linear index i of shape ne.
int64_t bcast_index(int64_t i, const Shape &ne, const Shape &pne) {
    const int nd = (int)ne.size(), np = (int)pne.size();
    int64_t idx = 0, stride = 1;
    for (int d = nd - 1; d >= 0; d--) {
        const int64_t c = i % ne[d];
        i /= ne[d];
        const int pd = d - (nd - np);
        if (pd >= 0) {
            if (pne[pd] != 1) idx += c * stride;
            stride *= pne[pd];
        }
    }
    return idx;
}

// Random values that are never exactly zero (|v| >= 0.05).
std::vector<float> fill_nonzero(svg_tensor *t, std::mt19937 &rng, float lo = -1.f, float hi = 1.f) {
    std::uniform_real_distribution<float> dist(lo, hi);
    std::vector<float> v((size_t)svg_nelements(t));
    for (float &x : v) {
        do x = dist(rng);
        while (std::fabs(x) < 0.05f && (lo < 0 && hi > 0));
    }
    EXPECT_TRUE(svg_tensor_set_f32(t, v.data(), (int64_t)v.size())) << svg_last_error();
    // values after rounding / quantization to the tensor type
    EXPECT_TRUE(svg_tensor_get_f32(t, v.data(), (int64_t)v.size())) << svg_last_error();
    return v;
}

// ======================================================================= norm

// Reference of svg_norm_ext over dims [dim0, dim0+n) of contiguous x.
std::vector<float> ref_norm(const std::vector<float> &x, const Shape &ne, svg_norm_kind kind,
                            int dim0, int n, double eps, const std::vector<float> *w,
                            const std::vector<float> *b, const std::vector<float> *scale,
                            const Shape *scale_ne, const std::vector<float> *shift,
                            const Shape *shift_ne) {
    const int64_t outer = prod(ne, 0, dim0), N = prod(ne, dim0, dim0 + n),
                  inner = prod(ne, dim0 + n);
    std::vector<float> y(x.size());
    for (int64_t o = 0; o < outer; o++) {
        for (int64_t in = 0; in < inner; in++) {
            auto at = [&](int64_t j) { return (o * N + j) * inner + in; };
            double mean = 0, var = 0;
            if (kind == SVG_NORM_LAYER) {
                for (int64_t j = 0; j < N; j++) mean += x[at(j)];
                mean /= N;
                for (int64_t j = 0; j < N; j++) var += (x[at(j)] - mean) * (x[at(j)] - mean);
                var /= N;
            } else {
                for (int64_t j = 0; j < N; j++) var += (double)x[at(j)] * x[at(j)];
                var /= N;
            }
            const double inv = 1.0 / std::sqrt(var + eps);
            for (int64_t j = 0; j < N; j++) {
                const int64_t i = at(j);
                double v = (x[i] - mean) * inv;
                if (w) v *= (*w)[j];
                if (b) v += (*b)[j];
                if (scale) v *= 1.0 + (*scale)[bcast_index(i, ne, *scale_ne)];
                if (shift) v += (*shift)[bcast_index(i, ne, *shift_ne)];
                y[i] = (float)v;
            }
        }
    }
    return y;
}

struct NormCase {
    Shape ne;
    svg_norm_kind kind;
    int dim0, n;
    float eps;
    bool w, b;
    Shape w_shape;  // empty: 1-D of the normalized element count
};

std::string norm_name(const NormCase &c) {
    std::ostringstream s;
    s << (c.kind == SVG_NORM_LAYER ? "layer" : "rms") << " x" << shape_str(c.ne) << " dims [" << c.dim0
      << ",+" << c.n << ") eps " << c.eps << (c.w ? " w" : "") << (c.b ? " b" : "");
    return s.str();
}

void run_norm_case(const NormCase &c, std::mt19937 &rng, float lo = -1.f, float hi = 1.f,
                   int n_threads = 2) {
    SCOPED_TRACE(norm_name(c));
    Ctx ctx;
    svg_tensor *x = new_t(ctx, SVG_TYPE_F32, c.ne);
    auto xv = fill_nonzero(x, rng, lo, hi);
    const int d0 = c.dim0 < 0 ? c.dim0 + (int)c.ne.size() : c.dim0;
    const int64_t N = prod(c.ne, d0, d0 + c.n);
    const Shape wsh = c.w_shape.empty() ? Shape{N} : c.w_shape;
    svg_tensor *w = nullptr, *b = nullptr;
    std::vector<float> wv, bv;
    if (c.w) {
        w = new_t(ctx, SVG_TYPE_F32, wsh);
        wv = fill_nonzero(w, rng, 0.5f, 1.5f);
    }
    if (c.b) {
        b = new_t(ctx, SVG_TYPE_F32, wsh);
        bv = fill_nonzero(b, rng);
    }
    svg_tensor *y = svg_norm_ext(ctx, x, c.kind, c.dim0, c.n, c.eps, w, b, nullptr, nullptr);
    ASSERT_TRUE(compute(ctx, y, n_threads));
    ASSERT_EQ(svg_nelements(y), (int64_t)xv.size());
    auto ref = ref_norm(xv, c.ne, c.kind, d0, c.n, c.eps, c.w ? &wv : nullptr, c.b ? &bv : nullptr,
                        nullptr, nullptr, nullptr, nullptr);
    EXPECT_LT(rel_l2(to_vec(y), ref), kTol);
}

TEST(NormExt, LastDim) {
    std::mt19937 rng(101);
    for (svg_norm_kind k : {SVG_NORM_LAYER, SVG_NORM_RMS})
        for (float eps : {1e-6f, 1e-5f}) {
            run_norm_case({{2, 7, 33}, k, 2, 1, eps, false, false, {}}, rng);
            run_norm_case({{2, 7, 33}, k, 2, 1, eps, true, false, {}}, rng);
            run_norm_case({{2, 7, 33}, k, -1, 1, eps, true, true, {}}, rng);
            run_norm_case({{3, 5, 128}, k, 2, 1, eps, true, true, {}}, rng);
            run_norm_case({{1, 1}, k, 1, 1, eps, false, true, {}}, rng);  // single element
            run_norm_case({{13, 1031}, k, 1, 1, eps, true, false, {}}, rng);
        }
}

TEST(NormExt, HeadsTimesDim) {
    // "rms over heads×dim": x [B, L, H, D], dims (H, D), w with H*D elements
    std::mt19937 rng(102);
    for (svg_norm_kind k : {SVG_NORM_RMS, SVG_NORM_LAYER})
        for (float eps : {1e-6f, 1e-5f}) {
            run_norm_case({{2, 9, 4, 12}, k, 2, 2, eps, true, false, {}}, rng);
            run_norm_case({{2, 9, 4, 12}, k, 2, 2, eps, true, false, {4, 12}}, rng);
            run_norm_case({{1, 5, 3, 16}, k, -2, 2, eps, false, false, {}}, rng);
            run_norm_case({{2, 3, 5, 7}, k, 2, 2, eps, true, true, {}}, rng);
            // normalizing the innermost dim of a 4-D tensor (per-head qk norm)
            run_norm_case({{2, 9, 4, 12}, k, 3, 1, eps, true, false, {}}, rng);
        }
}

TEST(NormExt, MiddleDimChannel) {
    // channel norm as in the Wan VAE: x [B, C, T, H, W], dim0 = 1, n = 1
    std::mt19937 rng(103);
    for (svg_norm_kind k : {SVG_NORM_RMS, SVG_NORM_LAYER})
        for (float eps : {1e-6f, 1e-5f}) {
            run_norm_case({{2, 8, 3, 5, 7}, k, 1, 1, eps, true, false, {}}, rng);
            run_norm_case({{1, 12, 2, 4, 6}, k, 1, 1, eps, true, true, {12, 1, 1, 1}}, rng);
            run_norm_case({{2, 5, 1, 3, 3}, k, 1, 1, eps, false, false, {}}, rng);
            run_norm_case({{1, 33, 2, 9, 11}, k, 1, 1, eps, true, true, {}}, rng, -1.f, 1.f, 1);
            // two middle dims: [B, C, T, H, W] over (T, H)
            run_norm_case({{2, 3, 4, 5, 6}, k, 2, 2, eps, true, true, {}}, rng);
        }
}

TEST(NormExt, LargeOffsetStableStatistics) {
    // mean 100, std ~0.58: E[x^2] - E[x]^2 in fp32 loses ~3 digits; two-pass
    // or Welford statistics stay within 1e-4 of the double reference.
    std::mt19937 rng(104);
    for (float eps : {1e-6f, 1e-5f}) {
        run_norm_case({{3, 5, 96}, SVG_NORM_LAYER, 2, 1, eps, true, true, {}}, rng, 99.f, 101.f);
        run_norm_case({{2, 4, 4, 40}, SVG_NORM_LAYER, 2, 2, eps, true, false, {}}, rng, 99.f, 101.f);
        run_norm_case({{1, 16, 2, 3, 5}, SVG_NORM_LAYER, 1, 1, eps, false, false, {}}, rng, 99.f,
                      101.f);
        run_norm_case({{3, 5, 96}, SVG_NORM_RMS, 2, 1, eps, true, false, {}}, rng, 99.f, 101.f);
    }
}

TEST(NormExt, LayerNormAndRmsNormWrappers) {
    std::mt19937 rng(105);
    for (const Shape &ne : {Shape{2, 7, 33}, Shape{5, 64}, Shape{2, 3, 4, 17}}) {
        SCOPED_TRACE(shape_str(ne));
        const int64_t C = ne.back();
        for (int variant = 0; variant < 3; variant++) {
            Ctx ctx;
            svg_tensor *x = new_t(ctx, SVG_TYPE_F32, ne);
            auto xv = fill_nonzero(x, rng);
            svg_tensor *w = new_t(ctx, SVG_TYPE_F32, {C}), *b = new_t(ctx, SVG_TYPE_F32, {C});
            auto wv = fill_nonzero(w, rng), bv = fill_nonzero(b, rng);
            const bool use_w = variant >= 1, use_b = variant >= 2;
            svg_tensor *ln = svg_layer_norm(ctx, x, use_w ? w : nullptr, use_b ? b : nullptr, 1e-6f);
            ASSERT_TRUE(compute(ctx, ln));
            auto ref_ln = ref_norm(xv, ne, SVG_NORM_LAYER, (int)ne.size() - 1, 1, 1e-6,
                                   use_w ? &wv : nullptr, use_b ? &bv : nullptr, nullptr, nullptr,
                                   nullptr, nullptr);
            EXPECT_LT(rel_l2(to_vec(ln), ref_ln), kTol) << "layer_norm variant " << variant;

            svg_tensor *rn = svg_rms_norm(ctx, x, use_w ? w : nullptr, 1e-5f);
            ASSERT_TRUE(compute(ctx, rn));
            auto ref_rn = ref_norm(xv, ne, SVG_NORM_RMS, (int)ne.size() - 1, 1, 1e-5,
                                   use_w ? &wv : nullptr, nullptr, nullptr, nullptr, nullptr, nullptr);
            EXPECT_LT(rel_l2(to_vec(rn), ref_rn), kTol) << "rms_norm variant " << variant;
        }
    }
}

TEST(NormExt, Modulate) {
    // y = norm(x) * w + b, then y * (1 + scale) + shift, scale/shift [B, 1, C]
    std::mt19937 rng(106);
    struct Case {
        Shape x, scale, shift;
        svg_norm_kind kind;
        bool w, b;
    };
    const Case cases[] = {
        {{2, 7, 33}, {2, 1, 33}, {2, 1, 33}, SVG_NORM_LAYER, false, false},
        {{2, 7, 33}, {2, 1, 33}, {2, 1, 33}, SVG_NORM_LAYER, true, true},
        {{3, 5, 64}, {3, 1, 64}, {3, 1, 64}, SVG_NORM_RMS, true, false},
        {{3, 5, 64}, {3, 1, 64}, {3, 1, 64}, SVG_NORM_RMS, false, false},
        {{1, 9, 17}, {1, 1, 17}, {1, 9, 17}, SVG_NORM_LAYER, false, false},  // full shift
        {{2, 4, 24}, {24}, {1, 24}, SVG_NORM_LAYER, true, true},             // lower rank
        {{2, 6, 40}, {2, 6, 40}, {2, 1, 40}, SVG_NORM_LAYER, false, false},  // full scale
        {{2, 5, 3, 20}, {2, 1, 1, 20}, {2, 1, 3, 20}, SVG_NORM_LAYER, false, false},
    };
    for (const Case &c : cases) {
        for (int which = 0; which < 3; which++) {  // 0 both, 1 scale only, 2 shift only
            SCOPED_TRACE(shape_str(c.x) + " scale " + shape_str(c.scale) + " shift " +
                         shape_str(c.shift) + " which " + std::to_string(which) +
                         (c.kind == SVG_NORM_RMS ? " rms" : " layer") + (c.w ? " w" : "") +
                         (c.b ? " b" : ""));
            Ctx ctx;
            const int64_t C = c.x.back();
            svg_tensor *x = new_t(ctx, SVG_TYPE_F32, c.x);
            auto xv = fill_nonzero(x, rng);
            svg_tensor *sc = new_t(ctx, SVG_TYPE_F32, c.scale), *sh = new_t(ctx, SVG_TYPE_F32, c.shift);
            auto scv = fill_nonzero(sc, rng), shv = fill_nonzero(sh, rng);
            svg_tensor *w = nullptr, *b = nullptr;
            std::vector<float> wv, bv;
            if (c.w) {
                w = new_t(ctx, SVG_TYPE_F32, {C});
                wv = fill_nonzero(w, rng, 0.5f, 1.5f);
            }
            if (c.b) {
                b = new_t(ctx, SVG_TYPE_F32, {C});
                bv = fill_nonzero(b, rng);
            }
            const bool use_sc = which != 2, use_sh = which != 1;
            svg_tensor *y = svg_norm_modulate(ctx, x, c.kind, 1e-6f, w, b, use_sc ? sc : nullptr,
                                              use_sh ? sh : nullptr);
            ASSERT_TRUE(compute(ctx, y));
            auto ref = ref_norm(xv, c.x, c.kind, (int)c.x.size() - 1, 1, 1e-6, c.w ? &wv : nullptr,
                                c.b ? &bv : nullptr, use_sc ? &scv : nullptr, &c.scale,
                                use_sh ? &shv : nullptr, &c.shift);
            EXPECT_LT(rel_l2(to_vec(y), ref), kTol);
        }
    }
    // svg_norm_ext with modulation over two dims ([B, L, H, D] over H, D)
    {
        Ctx ctx;
        const Shape xs{2, 5, 3, 8}, ss{2, 1, 1, 8};
        svg_tensor *x = new_t(ctx, SVG_TYPE_F32, xs);
        auto xv = fill_nonzero(x, rng);
        svg_tensor *sc = new_t(ctx, SVG_TYPE_F32, ss), *sh = new_t(ctx, SVG_TYPE_F32, ss);
        auto scv = fill_nonzero(sc, rng), shv = fill_nonzero(sh, rng);
        svg_tensor *w = new_t(ctx, SVG_TYPE_F32, {24});
        auto wv = fill_nonzero(w, rng);
        svg_tensor *y = svg_norm_ext(ctx, x, SVG_NORM_RMS, 2, 2, 1e-5f, w, nullptr, sc, sh);
        ASSERT_TRUE(compute(ctx, y));
        auto ref = ref_norm(xv, xs, SVG_NORM_RMS, 2, 2, 1e-5, &wv, nullptr, &scv, &ss, &shv, &ss);
        EXPECT_LT(rel_l2(to_vec(y), ref), kTol) << "norm_ext rms over (H, D) with modulation";
    }
}

// ================================================================= group norm

std::vector<float> ref_group_norm(const std::vector<float> &x, const Shape &ne, int G, double eps,
                                  const std::vector<float> *w, const std::vector<float> *b) {
    const int64_t B = ne[0], C = ne[1], S = prod(ne, 2), cg = C / G;
    std::vector<float> y(x.size());
    for (int64_t bi = 0; bi < B; bi++)
        for (int g = 0; g < G; g++) {
            const int64_t base = (bi * C + g * cg) * S, n = cg * S;
            double mean = 0, var = 0;
            for (int64_t i = 0; i < n; i++) mean += x[base + i];
            mean /= n;
            for (int64_t i = 0; i < n; i++) var += (x[base + i] - mean) * (x[base + i] - mean);
            var /= n;
            const double inv = 1.0 / std::sqrt(var + eps);
            for (int64_t i = 0; i < n; i++) {
                const int64_t c = g * cg + i / S;
                double v = (x[base + i] - mean) * inv;
                if (w) v *= (*w)[c];
                if (b) v += (*b)[c];
                y[base + i] = (float)v;
            }
        }
    return y;
}

TEST(GroupNorm, Shapes) {
    std::mt19937 rng(201);
    const Shape shapes[] = {{2, 8, 3, 5, 7}, {1, 12, 2, 4, 3}, {2, 8, 5, 9}, {3, 12, 4, 4}, {1, 8, 1, 1}};
    for (const Shape &ne : shapes)
        for (int G : {1, 2, 4})
            for (int affine = 0; affine < 3; affine++) {  // 0 none, 1 w, 2 w+b
                const float eps = affine == 1 ? 1e-5f : 1e-6f;
                SCOPED_TRACE(shape_str(ne) + " groups " + std::to_string(G) + " affine " +
                             std::to_string(affine));
                Ctx ctx;
                svg_tensor *x = new_t(ctx, SVG_TYPE_F32, ne);
                auto xv = fill_nonzero(x, rng);
                svg_tensor *w = nullptr, *b = nullptr;
                std::vector<float> wv, bv;
                if (affine >= 1) {
                    w = new_t(ctx, SVG_TYPE_F32, {ne[1]});
                    wv = fill_nonzero(w, rng, 0.5f, 1.5f);
                }
                if (affine >= 2) {
                    b = new_t(ctx, SVG_TYPE_F32, {ne[1]});
                    bv = fill_nonzero(b, rng);
                }
                svg_tensor *y = svg_group_norm(ctx, x, G, eps, w, b);
                ASSERT_TRUE(compute(ctx, y, G == 2 ? 1 : 2));
                auto ref = ref_group_norm(xv, ne, G, eps, w ? &wv : nullptr, b ? &bv : nullptr);
                EXPECT_LT(rel_l2(to_vec(y), ref), kTol);
            }
}

TEST(GroupNorm, BiasOnlyAndLargeOffset) {
    std::mt19937 rng(202);
    {
        Ctx ctx;
        const Shape ne{2, 12, 3, 5};
        svg_tensor *x = new_t(ctx, SVG_TYPE_F32, ne);
        auto xv = fill_nonzero(x, rng);
        svg_tensor *b = new_t(ctx, SVG_TYPE_F32, {12});
        auto bv = fill_nonzero(b, rng);
        svg_tensor *y = svg_group_norm(ctx, x, 4, 1e-6f, nullptr, b);
        ASSERT_TRUE(compute(ctx, y));
        EXPECT_LT(rel_l2(to_vec(y), ref_group_norm(xv, ne, 4, 1e-6, nullptr, &bv)), kTol) << "bias only";
    }
    {
        Ctx ctx;
        const Shape ne{2, 8, 3, 5, 7};  // 2 groups of 4*105 = 420 elements
        svg_tensor *x = new_t(ctx, SVG_TYPE_F32, ne);
        auto xv = fill_nonzero(x, rng, 99.f, 101.f);
        svg_tensor *w = new_t(ctx, SVG_TYPE_F32, {8}), *b = new_t(ctx, SVG_TYPE_F32, {8});
        auto wv = fill_nonzero(w, rng, 0.5f, 1.5f), bv = fill_nonzero(b, rng);
        svg_tensor *y = svg_group_norm(ctx, x, 2, 1e-6f, w, b);
        ASSERT_TRUE(compute(ctx, y));
        EXPECT_LT(rel_l2(to_vec(y), ref_group_norm(xv, ne, 2, 1e-6, &wv, &bv)), kTol)
            << "mean 100 input: fp32 statistics must not cancel";
    }
}

// ==================================================================== mul_mat

// a [abatch..., M, K] (logical values, row-major), b [bbatch..., N, K] with
// bbatch broadcast (right-aligned) onto abatch → [abatch..., M, N].
std::vector<float> ref_mul_mat(const std::vector<float> &a, const Shape &ane,
                               const std::vector<float> &b, const Shape &bne,
                               const std::vector<float> *bias = nullptr) {
    const int64_t M = ane[ane.size() - 2], K = ane.back(), N = bne[bne.size() - 2];
    const Shape abatch(ane.begin(), ane.end() - 2), bbatch(bne.begin(), bne.end() - 2);
    const int64_t nbatch = prod(abatch);
    std::vector<float> y((size_t)(nbatch * M * N));
    for (int64_t ib = 0; ib < nbatch; ib++) {
        const int64_t jb = abatch.empty() ? 0 : bcast_index(ib, abatch, bbatch);
        const float *A = a.data() + ib * M * K, *Bm = b.data() + jb * N * K;
        for (int64_t m = 0; m < M; m++)
            for (int64_t n = 0; n < N; n++) {
                double s = bias ? (*bias)[n] : 0.0;
                for (int64_t k = 0; k < K; k++) s += (double)A[m * K + k] * Bm[n * K + k];
                y[(ib * M + m) * N + n] = (float)s;
            }
    }
    return y;
}

const svg_type kWeightTypes[] = {SVG_TYPE_F32, SVG_TYPE_F16, SVG_TYPE_BF16, SVG_TYPE_Q8_0, SVG_TYPE_Q4_0};

TEST(MulMat, LinearWeightTypes) {
    std::mt19937 rng(301);
    const Shape xshapes[] = {{7, 64}, {2, 7, 64}, {2, 3, 5, 96}, {1, 96}, {33, 96}};
    const int64_t Ns[] = {33, 7, 1, 64};
    for (svg_type wt : kWeightTypes)
        for (const Shape &xs : xshapes)
            for (int64_t N : Ns)
                for (int use_bias = 0; use_bias < 2; use_bias++) {
                    const int64_t K = xs.back();
                    SCOPED_TRACE(std::string("w ") + svg_type_name(wt) + " [" + std::to_string(N) + "," +
                                 std::to_string(K) + "] x " + shape_str(xs) + (use_bias ? " bias" : ""));
                    Ctx ctx;
                    svg_tensor *x = new_t(ctx, SVG_TYPE_F32, xs);
                    auto xv = fill_nonzero(x, rng);
                    svg_tensor *w = new_t(ctx, wt, {N, K});
                    fill_random(w, rng);
                    auto wv = to_vec(w);  // dequantized weight
                    svg_tensor *bias = nullptr;
                    std::vector<float> bv;
                    if (use_bias) {
                        bias = new_t(ctx, SVG_TYPE_F32, {N});
                        bv = fill_nonzero(bias, rng);
                    }
                    svg_tensor *y = svg_linear(ctx, x, w, bias);
                    ASSERT_TRUE(compute(ctx, y));
                    Shape ys = xs;
                    ys.back() = N;
                    ASSERT_EQ(svg_nelements(y), prod(ys));
                    EXPECT_EQ(y->n_dims, (int)ys.size());
                    auto ref = ref_mul_mat(xv, xs, wv, {N, K}, use_bias ? &bv : nullptr);
                    EXPECT_LT(rel_l2(to_vec(y), ref), kTol);
                }
}

// A quantized weight under bf16/f16 activations of many rows (q8_0 / q4_0:
// 2048, k-quants: 64) is cast to the activations' type (one dense GEMM);
// shorter or f32 inputs multiply the blocks directly (the graph only: the
// CPU computes in f32).
TEST(MulMat, LinearCastsQuantizedWeightsForLongInputs) {
    Ctx ctx;
    auto weight_of = [&](svg_type xt, int64_t rows, svg_type wt) {
        svg_tensor *w = new_t(ctx, wt, {64, 256});
        svg_tensor *y = svg_linear(ctx, new_t(ctx, xt, {1, rows, 256}), w, nullptr);
        EXPECT_NE(y, nullptr) << svg_last_error();
        const svg_tensor *used = y ? y->src[1] : nullptr;
        return std::make_pair(w, used);
    };
    for (svg_type wt : {SVG_TYPE_Q8_0, SVG_TYPE_Q4_0, SVG_TYPE_Q4_K, SVG_TYPE_Q5_K, SVG_TYPE_Q6_K})
        for (svg_type xt : {SVG_TYPE_BF16, SVG_TYPE_F16}) {
            SCOPED_TRACE(std::string(svg_type_name(wt)) + " under " + svg_type_name(xt));
            const int64_t rows = wt == SVG_TYPE_Q8_0 || wt == SVG_TYPE_Q4_0 ? 2048 : 64;
            auto [w, used] = weight_of(xt, rows, wt);
            ASSERT_NE(used, nullptr);
            EXPECT_EQ(used->op, SVG_OP_COPY);
            EXPECT_EQ(used->type, xt);
            EXPECT_EQ(used->src[0], w);
            auto [w_short, used_short] = weight_of(xt, rows - 1, wt);
            EXPECT_EQ(used_short, w_short);
            auto [w_f32, used_f32] = weight_of(SVG_TYPE_F32, 4096, wt);
            EXPECT_EQ(used_f32, w_f32);
        }
    auto [w_bf16, used_bf16] = weight_of(SVG_TYPE_BF16, 4096, SVG_TYPE_BF16);  // float weights as they are
    EXPECT_EQ(used_bf16, w_bf16);
}

TEST(MulMat, FloatWeightsOddK) {
    // K not a multiple of 8 (nor of a SIMD width) for the float weight types
    std::mt19937 rng(302);
    for (svg_type wt : {SVG_TYPE_F32, SVG_TYPE_F16, SVG_TYPE_BF16})
        for (int64_t K : {1, 3, 13, 31, 57})
            for (const Shape &lead : {Shape{7}, Shape{2, 5}}) {
                Shape xs = lead;
                xs.push_back(K);
                const int64_t N = K == 13 ? 33 : 9;
                SCOPED_TRACE(std::string("w ") + svg_type_name(wt) + " K " + std::to_string(K) + " x " +
                             shape_str(xs));
                Ctx ctx;
                svg_tensor *x = new_t(ctx, SVG_TYPE_F32, xs);
                auto xv = fill_nonzero(x, rng);
                svg_tensor *w = new_t(ctx, wt, {N, K});
                auto wv = fill_nonzero(w, rng);
                svg_tensor *bias = new_t(ctx, SVG_TYPE_F32, {N});
                auto bv = fill_nonzero(bias, rng);
                svg_tensor *y = svg_linear(ctx, x, w, K == 13 ? bias : nullptr);
                ASSERT_TRUE(compute(ctx, y));
                EXPECT_LT(rel_l2(to_vec(y), ref_mul_mat(xv, xs, wv, {N, K}, K == 13 ? &bv : nullptr)), kTol);
            }
}

TEST(MulMat, BiggerCaseThreads) {
    // M = 67, K = 256, N = 130 with 1, 2 and 3 threads, every weight type
    std::mt19937 rng(303);
    for (svg_type wt : kWeightTypes) {
        SCOPED_TRACE(svg_type_name(wt));
        Ctx ctx;
        const int64_t M = 67, K = 256, N = 130;
        svg_tensor *x = new_t(ctx, SVG_TYPE_F32, {M, K});
        auto xv = fill_nonzero(x, rng);
        svg_tensor *w = new_t(ctx, wt, {N, K});
        fill_random(w, rng);
        auto wv = to_vec(w);
        svg_tensor *bias = new_t(ctx, SVG_TYPE_F32, {N});
        auto bv = fill_nonzero(bias, rng);
        svg_tensor *y = svg_linear(ctx, x, w, bias);
        auto ref = ref_mul_mat(xv, {M, K}, wv, {N, K}, &bv);
        for (int nt : {1, 2, 3}) {
            ASSERT_TRUE(compute(ctx, y, nt));
            EXPECT_LT(rel_l2(to_vec(y), ref), kTol) << nt << " threads";
        }
    }
}

TEST(MulMat, LongK) {
    // many blocks per row (K = 1024), GEMV (M = 1) and a few rows
    std::mt19937 rng(306);
    for (svg_type wt : kWeightTypes)
        for (int64_t M : {1, 3}) {
            SCOPED_TRACE(std::string(svg_type_name(wt)) + " M " + std::to_string(M));
            Ctx ctx;
            const int64_t K = 1024, N = 65;
            svg_tensor *x = new_t(ctx, SVG_TYPE_F32, {M, K});
            auto xv = fill_nonzero(x, rng);
            svg_tensor *w = new_t(ctx, wt, {N, K});
            fill_random(w, rng);
            auto wv = to_vec(w);
            svg_tensor *y = svg_linear(ctx, x, w, nullptr);
            ASSERT_TRUE(compute(ctx, y));
            EXPECT_LT(rel_l2(to_vec(y), ref_mul_mat(xv, {M, K}, wv, {N, K})), kTol);
        }
}

TEST(MulMat, Batched) {
    // a [B, H, M, K] @ b [..., N, K]^T with b's batch dims broadcast
    std::mt19937 rng(304);
    struct Case {
        Shape a, b;
    };
    const Case cases[] = {
        {{2, 3, 7, 16}, {2, 3, 5, 16}},    {{2, 3, 7, 16}, {1, 3, 5, 16}},
        {{2, 3, 7, 16}, {5, 16}},          {{2, 3, 9, 13}, {3, 11, 13}},
        {{2, 3, 9, 13}, {2, 1, 11, 13}},   {{3, 33, 20}, {3, 17, 20}},
        {{1, 4, 37, 64}, {1, 4, 19, 64}},  {{2, 2, 1, 8}, {2, 2, 1, 8}},
    };
    for (const Case &c : cases)
        for (svg_type bt : {SVG_TYPE_F32, SVG_TYPE_F16}) {
            SCOPED_TRACE("a " + shape_str(c.a) + " b " + shape_str(c.b) + " " + svg_type_name(bt));
            Ctx ctx;
            svg_tensor *a = new_t(ctx, SVG_TYPE_F32, c.a);
            auto av = fill_nonzero(a, rng);
            svg_tensor *b = new_t(ctx, bt, c.b);
            auto bv = fill_nonzero(b, rng);
            svg_tensor *y = svg_mul_mat(ctx, a, b);
            ASSERT_TRUE(compute(ctx, y));
            Shape ys = c.a;
            ys.back() = c.b[c.b.size() - 2];
            ASSERT_EQ(svg_nelements(y), prod(ys));
            EXPECT_LT(rel_l2(to_vec(y), ref_mul_mat(av, c.a, bv, c.b)), kTol);
        }
    // quantized b with batch broadcast
    for (svg_type bt : {SVG_TYPE_Q8_0, SVG_TYPE_Q4_0}) {
        SCOPED_TRACE(svg_type_name(bt));
        Ctx ctx;
        const Shape as{2, 3, 7, 64}, bs{1, 3, 9, 64};
        svg_tensor *a = new_t(ctx, SVG_TYPE_F32, as);
        auto av = fill_nonzero(a, rng);
        svg_tensor *b = new_t(ctx, bt, bs);
        fill_random(b, rng);
        auto bv = to_vec(b);
        svg_tensor *y = svg_mul_mat(ctx, a, b);
        ASSERT_TRUE(compute(ctx, y));
        EXPECT_LT(rel_l2(to_vec(y), ref_mul_mat(av, as, bv, bs)), kTol);
    }
}

TEST(MulMat, NonContiguousA) {
    std::mt19937 rng(305);
    // a = transpose of a contiguous [B, K, M] → [B, M, K] with strided rows
    for (svg_type wt : {SVG_TYPE_F32, SVG_TYPE_F16, SVG_TYPE_Q8_0}) {
        SCOPED_TRACE(std::string("transposed a, w ") + svg_type_name(wt));
        Ctx ctx;
        const int64_t B = 2, M = 7, K = 64, N = 33;
        svg_tensor *at = new_t(ctx, SVG_TYPE_F32, {B, K, M});
        auto atv = fill_nonzero(at, rng);
        svg_tensor *a = svg_transpose(ctx, at, 1, 2);
        ASSERT_NE(a, nullptr) << svg_last_error();
        std::vector<float> av(B * M * K);
        for (int64_t b = 0; b < B; b++)
            for (int64_t m = 0; m < M; m++)
                for (int64_t k = 0; k < K; k++) av[(b * M + m) * K + k] = atv[(b * K + k) * M + m];
        svg_tensor *w = new_t(ctx, wt, {N, K});
        fill_random(w, rng);
        auto wv = to_vec(w);
        svg_tensor *bias = new_t(ctx, SVG_TYPE_F32, {N});
        auto bv = fill_nonzero(bias, rng);
        svg_tensor *y = svg_linear(ctx, a, w, bias);
        ASSERT_TRUE(compute(ctx, y));
        EXPECT_LT(rel_l2(to_vec(y), ref_mul_mat(av, {B, M, K}, wv, {N, K}, &bv)), kTol);
    }
    // a = permuted view of [B, M, H, K] → [B, H, M, K] (attention layout),
    // b a permuted view too
    {
        Ctx ctx;
        const int64_t B = 2, M = 9, H = 3, K = 12, N = 5;
        svg_tensor *a0 = new_t(ctx, SVG_TYPE_F32, {B, M, H, K});
        auto a0v = fill_nonzero(a0, rng);
        svg_tensor *b0 = new_t(ctx, SVG_TYPE_F32, {B, N, H, K});
        auto b0v = fill_nonzero(b0, rng);
        const int perm[4] = {0, 2, 1, 3};
        svg_tensor *a = svg_permute(ctx, a0, perm), *b = svg_permute(ctx, b0, perm);
        std::vector<float> av(B * H * M * K), bv(B * H * N * K);
        for (int64_t bi = 0; bi < B; bi++)
            for (int64_t h = 0; h < H; h++)
                for (int64_t k = 0; k < K; k++) {
                    for (int64_t m = 0; m < M; m++)
                        av[((bi * H + h) * M + m) * K + k] = a0v[((bi * M + m) * H + h) * K + k];
                    for (int64_t n = 0; n < N; n++)
                        bv[((bi * H + h) * N + n) * K + k] = b0v[((bi * N + n) * H + h) * K + k];
                }
        svg_tensor *y = svg_mul_mat(ctx, a, b);
        ASSERT_TRUE(compute(ctx, y));
        EXPECT_LT(rel_l2(to_vec(y), ref_mul_mat(av, {B, H, M, K}, bv, {B, H, N, K})), kTol)
            << "permuted a and b";
    }
    // a = column slice of a wider matrix (row stride > K)
    {
        Ctx ctx;
        const int64_t M = 11, Kw = 40, K = 24, N = 7;
        svg_tensor *a0 = new_t(ctx, SVG_TYPE_F32, {M, Kw});
        auto a0v = fill_nonzero(a0, rng);
        svg_tensor *a = svg_slice(ctx, a0, 1, 8, 8 + K, 1);
        ASSERT_NE(a, nullptr) << svg_last_error();
        std::vector<float> av(M * K);
        for (int64_t m = 0; m < M; m++)
            for (int64_t k = 0; k < K; k++) av[m * K + k] = a0v[m * Kw + 8 + k];
        svg_tensor *w = new_t(ctx, SVG_TYPE_F32, {N, K});
        auto wv = fill_nonzero(w, rng);
        svg_tensor *y = svg_linear(ctx, a, w, nullptr);
        ASSERT_TRUE(compute(ctx, y));
        EXPECT_LT(rel_l2(to_vec(y), ref_mul_mat(av, {M, K}, wv, {N, K})), kTol) << "sliced a";
    }
}

// ===================================================================== conv

struct ConvDims {
    int64_t B, Cin, D, H, W, Cout, kd, kh, kw;
    int stride[3];
    int pad[6];
};

std::vector<float> ref_conv3d(const std::vector<float> &x, const std::vector<float> &w,
                              const std::vector<float> *bias, const ConvDims &c, int64_t o[3]) {
    const int64_t in[3] = {c.D, c.H, c.W}, k[3] = {c.kd, c.kh, c.kw};
    for (int i = 0; i < 3; i++)
        o[i] = (in[i] + c.pad[2 * i] + c.pad[2 * i + 1] - k[i]) / c.stride[i] + 1;
    std::vector<float> y((size_t)(c.B * c.Cout * o[0] * o[1] * o[2]));
    for (int64_t b = 0; b < c.B; b++)
        for (int64_t co = 0; co < c.Cout; co++)
            for (int64_t od = 0; od < o[0]; od++)
                for (int64_t oh = 0; oh < o[1]; oh++)
                    for (int64_t ow = 0; ow < o[2]; ow++) {
                        double s = bias ? (*bias)[co] : 0.0;
                        for (int64_t ci = 0; ci < c.Cin; ci++)
                            for (int64_t i = 0; i < c.kd; i++) {
                                const int64_t id = od * c.stride[0] - c.pad[0] + i;
                                if (id < 0 || id >= c.D) continue;
                                for (int64_t j = 0; j < c.kh; j++) {
                                    const int64_t ih = oh * c.stride[1] - c.pad[2] + j;
                                    if (ih < 0 || ih >= c.H) continue;
                                    for (int64_t l = 0; l < c.kw; l++) {
                                        const int64_t iw = ow * c.stride[2] - c.pad[4] + l;
                                        if (iw < 0 || iw >= c.W) continue;
                                        s += (double)w[(((co * c.Cin + ci) * c.kd + i) * c.kh + j) * c.kw + l] *
                                             x[(((b * c.Cin + ci) * c.D + id) * c.H + ih) * c.W + iw];
                                    }
                                }
                            }
                        y[(((b * c.Cout + co) * o[0] + od) * o[1] + oh) * o[2] + ow] = (float)s;
                    }
    return y;
}

std::string conv_name(const ConvDims &c) {
    std::ostringstream s;
    s << "x [" << c.B << "," << c.Cin << "," << c.D << "," << c.H << "," << c.W << "] w [" << c.Cout << ","
      << c.Cin << "," << c.kd << "," << c.kh << "," << c.kw << "] stride (" << c.stride[0] << ","
      << c.stride[1] << "," << c.stride[2] << ") pad (" << c.pad[0] << "," << c.pad[1] << "," << c.pad[2]
      << "," << c.pad[3] << "," << c.pad[4] << "," << c.pad[5] << ")";
    return s.str();
}

TEST(Conv3d, Cases) {
    std::mt19937 rng(401);
    const ConvDims cases[] = {
        {2, 3, 4, 6, 7, 5, 3, 3, 3, {1, 1, 1}, {1, 1, 1, 1, 1, 1}},
        {1, 4, 3, 8, 9, 6, 1, 2, 2, {1, 2, 2}, {0, 0, 0, 0, 0, 0}},   // patchify-like
        {2, 5, 5, 4, 3, 4, 3, 1, 1, {1, 1, 1}, {2, 0, 0, 0, 0, 0}},   // temporal causal
        {1, 3, 5, 7, 9, 4, 3, 3, 3, {2, 2, 2}, {1, 1, 1, 1, 1, 1}},   // stride 2
        {1, 4, 3, 5, 6, 6, 3, 3, 3, {1, 1, 1}, {2, 0, 1, 1, 1, 1}},   // Wan causal conv
        {2, 3, 4, 6, 5, 2, 2, 3, 2, {1, 2, 1}, {1, 2, 0, 1, 2, 0}},   // asymmetric pads
        {1, 2, 6, 5, 5, 3, 3, 1, 1, {2, 1, 1}, {2, 0, 0, 0, 0, 0}},   // temporal downsample
        {1, 16, 3, 10, 12, 16, 3, 3, 3, {1, 1, 1}, {2, 0, 1, 1, 1, 1}},
        {1, 32, 2, 9, 11, 40, 1, 1, 1, {1, 1, 1}, {0, 0, 0, 0, 0, 0}},  // 1x1x1 projection
        {1, 1, 1, 1, 1, 3, 1, 1, 1, {1, 1, 1}, {0, 0, 0, 0, 0, 0}},
        {1, 3, 2, 3, 3, 2, 3, 3, 3, {1, 1, 1}, {2, 2, 2, 2, 2, 2}},   // padding > 1 all sides
    };
    int iter = 0;
    for (const ConvDims &c : cases)
        for (svg_type wt : {SVG_TYPE_F32, SVG_TYPE_F16, SVG_TYPE_BF16}) {
            const bool use_bias = (iter++ % 2) == 0;
            SCOPED_TRACE(conv_name(c) + " w " + svg_type_name(wt) + (use_bias ? " bias" : ""));
            Ctx ctx;
            svg_tensor *x = new_t(ctx, SVG_TYPE_F32, {c.B, c.Cin, c.D, c.H, c.W});
            auto xv = fill_nonzero(x, rng);
            svg_tensor *w = new_t(ctx, wt, {c.Cout, c.Cin, c.kd, c.kh, c.kw});
            auto wv = fill_nonzero(w, rng);
            svg_tensor *bias = nullptr;
            std::vector<float> bv;
            if (use_bias) {
                bias = new_t(ctx, SVG_TYPE_F32, {c.Cout});
                bv = fill_nonzero(bias, rng);
            }
            svg_tensor *y = svg_conv3d(ctx, x, w, bias, c.stride, c.pad);
            ASSERT_TRUE(compute(ctx, y, (iter % 3) + 1));
            int64_t o[3];
            auto ref = ref_conv3d(xv, wv, use_bias ? &bv : nullptr, c, o);
            ASSERT_EQ(y->n_dims, 5);
            EXPECT_EQ(y->ne[0], c.B);
            EXPECT_EQ(y->ne[1], c.Cout);
            EXPECT_EQ(y->ne[2], o[0]);
            EXPECT_EQ(y->ne[3], o[1]);
            EXPECT_EQ(y->ne[4], o[2]);
            EXPECT_LT(rel_l2(to_vec(y), ref), kTol);
        }
}

TEST(Conv3d, StridedInput) {
    // x as a temporal slice of a longer clip (causal cache pattern): the
    // input is a non-contiguous view
    std::mt19937 rng(403);
    Ctx ctx;
    const int64_t B = 2, Cin = 3, T0 = 6, H = 5, W = 4, t0 = 2;
    svg_tensor *x0 = new_t(ctx, SVG_TYPE_F32, {B, Cin, T0, H, W});
    auto x0v = fill_nonzero(x0, rng);
    svg_tensor *x = svg_slice(ctx, x0, 2, t0, T0, 1);
    ASSERT_NE(x, nullptr) << svg_last_error();
    const ConvDims c{B, Cin, T0 - t0, H, W, 4, 3, 3, 3, {1, 1, 1}, {2, 0, 1, 1, 1, 1}};
    std::vector<float> xv;
    for (int64_t b = 0; b < B; b++)
        for (int64_t ci = 0; ci < Cin; ci++)
            for (int64_t t = t0; t < T0; t++)
                for (int64_t i = 0; i < H * W; i++) xv.push_back(x0v[((b * Cin + ci) * T0 + t) * H * W + i]);
    svg_tensor *w = new_t(ctx, SVG_TYPE_F32, {c.Cout, Cin, 3, 3, 3});
    auto wv = fill_nonzero(w, rng);
    svg_tensor *bias = new_t(ctx, SVG_TYPE_F32, {c.Cout});
    auto bv = fill_nonzero(bias, rng);
    svg_tensor *y = svg_conv3d(ctx, x, w, bias, c.stride, c.pad);
    ASSERT_TRUE(compute(ctx, y));
    int64_t o[3];
    EXPECT_LT(rel_l2(to_vec(y), ref_conv3d(xv, wv, &bv, c, o)), kTol);
}

TEST(Conv2d, Cases) {
    std::mt19937 rng(402);
    struct Case {
        int64_t B, Cin, H, W, Cout, kh, kw;
        int stride[2];
        int pad[4];  // top, bottom, left, right
    };
    const Case cases[] = {
        {2, 3, 8, 9, 5, 3, 3, {1, 1}, {1, 1, 1, 1}},    // 3x3 pad 1
        {1, 4, 9, 11, 6, 3, 3, {2, 2}, {1, 1, 1, 1}},   // stride 2
        {1, 4, 8, 10, 4, 3, 3, {2, 2}, {0, 1, 0, 1}},   // VAE downsample (right/bottom pad)
        {2, 6, 5, 7, 3, 1, 1, {1, 1}, {0, 0, 0, 0}},    // 1x1
        {1, 16, 6, 6, 24, 2, 2, {2, 2}, {0, 0, 0, 0}},  // patch embed
    };
    int iter = 0;
    for (const Case &c : cases)
        for (svg_type wt : {SVG_TYPE_F32, SVG_TYPE_F16, SVG_TYPE_BF16}) {
            const bool use_bias = (iter++ % 2) == 1;
            ConvDims d{c.B, c.Cin, 1, c.H, c.W, c.Cout, 1, c.kh, c.kw, {1, c.stride[0], c.stride[1]},
                       {0, 0, c.pad[0], c.pad[1], c.pad[2], c.pad[3]}};
            SCOPED_TRACE("conv2d " + conv_name(d) + " w " + svg_type_name(wt) + (use_bias ? " bias" : ""));
            Ctx ctx;
            svg_tensor *x = new_t(ctx, SVG_TYPE_F32, {c.B, c.Cin, c.H, c.W});
            auto xv = fill_nonzero(x, rng);
            svg_tensor *w = new_t(ctx, wt, {c.Cout, c.Cin, c.kh, c.kw});
            auto wv = fill_nonzero(w, rng);
            svg_tensor *bias = nullptr;
            std::vector<float> bv;
            if (use_bias) {
                bias = new_t(ctx, SVG_TYPE_F32, {c.Cout});
                bv = fill_nonzero(bias, rng);
            }
            svg_tensor *y = svg_conv2d(ctx, x, w, bias, c.stride, c.pad);
            ASSERT_TRUE(compute(ctx, y));
            int64_t o[3];
            auto ref = ref_conv3d(xv, wv, use_bias ? &bv : nullptr, d, o);
            ASSERT_EQ(y->n_dims, 4);
            EXPECT_EQ(y->ne[1], c.Cout);
            EXPECT_EQ(y->ne[2], o[1]);
            EXPECT_EQ(y->ne[3], o[2]);
            EXPECT_LT(rel_l2(to_vec(y), ref), kTol);
        }
}

// ======================================================== timestep embedding

// diffusers get_timestep_embedding, in double
std::vector<float> ref_timestep(const std::vector<float> &t, int dim, bool flip, double shift,
                                double scale, double max_period) {
    const int half = dim / 2;
    std::vector<float> y(t.size() * dim, 0.f);
    for (size_t n = 0; n < t.size(); n++)
        for (int i = 0; i < half; i++) {
            const double freq = std::exp(-std::log(max_period) * i / (half - shift));
            const double arg = scale * (double)t[n] * freq;
            const double s = std::sin(arg), c = std::cos(arg);
            y[n * dim + i] = (float)(flip ? c : s);
            y[n * dim + half + i] = (float)(flip ? s : c);
        }
    return y;
}

void run_timestep(const std::vector<float> &tv, int dim, bool flip, float shift, float scale,
                  float max_period) {
    SCOPED_TRACE("dim " + std::to_string(dim) + " flip " + std::to_string(flip) + " shift " +
                 std::to_string(shift) + " scale " + std::to_string(scale) + " max_period " +
                 std::to_string(max_period));
    Ctx ctx;
    svg_tensor *t = new_t(ctx, SVG_TYPE_F32, {(int64_t)tv.size()});
    ASSERT_TRUE(svg_tensor_set_f32(t, tv.data(), (int64_t)tv.size()));
    svg_tensor *y = svg_timestep_embedding(ctx, t, dim, flip, shift, scale, max_period);
    ASSERT_TRUE(compute(ctx, y));
    ASSERT_EQ(y->n_dims, 2);
    EXPECT_EQ(y->ne[0], (int64_t)tv.size());
    EXPECT_EQ(y->ne[1], dim);
    auto out = to_vec(y);
    auto ref = ref_timestep(tv, dim, flip, shift, scale, max_period);
    EXPECT_LT(rel_l2(out, ref), kTol);
    EXPECT_LT(max_abs_diff(out, ref), 5e-4);
    if (dim % 2) {
        for (size_t n = 0; n < tv.size(); n++) EXPECT_EQ(out[n * dim + dim - 1], 0.f) << "pad column, row " << n;
    }
}

TEST(TimestepEmbedding, Diffusers) {
    const std::vector<float> ts = {999.f, 0.5f, 250.f, 1.f, 17.25f, 1000.f, 3.f};
    run_timestep(ts, 256, true, 0.f, 1.f, 10000.f);   // Wan
    run_timestep(ts, 320, true, 1.f, 1.f, 10000.f);   // SD-style shift 1
    run_timestep(ts, 256, false, 1.f, 1.f, 10000.f);
    run_timestep(ts, 7, false, 1.f, 1.f, 10000.f);    // odd: zero last column
    run_timestep(ts, 7, true, 0.f, 1.f, 10000.f);
    run_timestep(ts, 33, true, 0.5f, 1.f, 10000.f);
    run_timestep(ts, 2, false, 0.f, 1.f, 10000.f);
    run_timestep({999.f, 0.5f}, 64, true, 0.f, 1.f, 1000.f);  // other max_period
}

TEST(TimestepEmbedding, ScaleMultipliesTheArgument) {
    // diffusers: emb = scale * (t * freq) BEFORE sin/cos, e.g. Flux-style
    // t in [0, 1] with scale 1000.
    run_timestep({0.999f, 0.5f, 0.25f, 0.0125f}, 256, true, 0.f, 1000.f, 10000.f);
    run_timestep({10.f, 2.5f}, 16, false, 1.f, 2.f, 10000.f);
}

// ====================================================================== rope

std::vector<float> ref_rope(const std::vector<float> &x, const Shape &ne, const std::vector<float> &pos,
                            const std::vector<int> &axes, double theta, svg_rope_mode mode) {
    const int64_t B = ne[0], L = ne[1], H = ne[2], D = ne[3];
    const int n_axes = (int)axes.size();
    std::vector<float> y(x);
    for (int64_t b = 0; b < B; b++)
        for (int64_t l = 0; l < L; l++)
            for (int64_t h = 0; h < H; h++) {
                const float *xr = x.data() + ((b * L + l) * H + h) * D;
                float *yr = y.data() + ((b * L + l) * H + h) * D;
                int64_t off = 0;
                for (int a = 0; a < n_axes; a++) {
                    const int da = axes[a];
                    for (int j = 0; j < da / 2; j++) {
                        const double freq = std::pow(theta, -2.0 * j / da);
                        const double ang = (double)pos[l * n_axes + a] * freq;
                        const double c = std::cos(ang), s = std::sin(ang);
                        int64_t i0, i1;
                        if (mode == SVG_ROPE_INTERLEAVED) {
                            i0 = off + 2 * j;
                            i1 = off + 2 * j + 1;
                        } else {
                            i0 = off + j;
                            i1 = off + j + da / 2;
                        }
                        const double x0 = xr[i0], x1 = xr[i1];
                        yr[i0] = (float)(x0 * c - x1 * s);
                        yr[i1] = (float)(x0 * s + x1 * c);
                    }
                    off += da;
                }
            }
    return y;
}

void run_rope(const Shape &ne, const std::vector<float> &pos, const std::vector<int> &axes, float theta,
              svg_rope_mode mode, std::mt19937 &rng, int n_threads = 2) {
    SCOPED_TRACE("rope x " + shape_str(ne) + " axes " + std::to_string(axes.size()) + " theta " +
                 std::to_string(theta) + (mode == SVG_ROPE_INTERLEAVED ? " interleaved" : " half-split"));
    Ctx ctx;
    svg_tensor *x = new_t(ctx, SVG_TYPE_F32, ne);
    auto xv = fill_nonzero(x, rng);
    svg_tensor *p = new_t(ctx, SVG_TYPE_F32, {ne[1], (int64_t)axes.size()});
    ASSERT_TRUE(svg_tensor_set_f32(p, pos.data(), (int64_t)pos.size()));
    svg_tensor *y = svg_rope(ctx, x, p, (int)axes.size(), axes.data(), theta, mode);
    ASSERT_TRUE(compute(ctx, y, n_threads));
    ASSERT_TRUE(svg_same_shape(x, y));
    EXPECT_LT(rel_l2(to_vec(y), ref_rope(xv, ne, pos, axes, theta, mode)), kTol);
}

std::vector<float> grid_pos(int64_t F, int64_t Hh, int64_t Ww) {
    std::vector<float> pos;
    for (int64_t f = 0; f < F; f++)
        for (int64_t h = 0; h < Hh; h++)
            for (int64_t w = 0; w < Ww; w++) {
                pos.push_back((float)f);
                pos.push_back((float)h);
                pos.push_back((float)w);
            }
    return pos;
}

TEST(Rope, OneAxis) {
    std::mt19937 rng(501);
    for (svg_rope_mode mode : {SVG_ROPE_INTERLEAVED, SVG_ROPE_HALF_SPLIT}) {
        std::vector<float> pos(9);
        std::iota(pos.begin(), pos.end(), 0.f);
        run_rope({2, 9, 3, 16}, pos, {16}, 10000.f, mode, rng);
        std::vector<float> pos2(37);
        for (size_t i = 0; i < pos2.size(); i++) pos2[i] = (float)(i * 7 % 41);
        run_rope({1, 37, 2, 64}, pos2, {64}, 10000.f, mode, rng, 1);
        run_rope({1, 5, 1, 2}, {0.f, 1.f, 2.f, 100.f, 3.5f}, {2}, 10000.f, mode, rng);
    }
}

TEST(Rope, MultiAxis) {
    std::mt19937 rng(502);
    for (svg_rope_mode mode : {SVG_ROPE_INTERLEAVED, SVG_ROPE_HALF_SPLIT}) {
        // Wan-like: 3 axes (f, h, w) over a grid
        run_rope({2, 2 * 3 * 4, 2, 12}, grid_pos(2, 3, 4), {4, 4, 4}, 10000.f, mode, rng);
        // Wan 2.1 head split of d = 128: [d - 4(d/6), 2(d/6), 2(d/6)] = 44, 42, 42
        run_rope({1, 2 * 2 * 3, 2, 128}, grid_pos(2, 2, 3), {44, 42, 42}, 10000.f, mode, rng);
        // Hunyuan-like: axes 8, 8, 8, theta 256
        run_rope({1, 3 * 2 * 5, 3, 24}, grid_pos(3, 2, 5), {8, 8, 8}, 256.f, mode, rng);
        // unequal sections
        run_rope({1, 2 * 3 * 3, 2, 20}, grid_pos(2, 3, 3), {2, 6, 12}, 10000.f, mode, rng);
    }
}

TEST(Rope, FractionalPositions) {
    std::mt19937 rng(503);
    std::uniform_real_distribution<float> d(0.f, 50.f);
    for (svg_rope_mode mode : {SVG_ROPE_INTERLEAVED, SVG_ROPE_HALF_SPLIT}) {
        const int64_t L = 11;
        std::vector<float> p1(L), p3(L * 3);
        for (float &v : p1) v = d(rng);
        for (float &v : p3) v = d(rng);
        run_rope({2, L, 3, 16}, p1, {16}, 10000.f, mode, rng);
        run_rope({2, L, 2, 24}, p3, {8, 8, 8}, 256.f, mode, rng);
        run_rope({1, L, 4, 12}, p3, {4, 4, 4}, 10000.f, mode, rng);
    }
}

TEST(Rope, PermutedInput) {
    // x [B, L, H, D] as a permuted view of a [B, H, L, D] tensor
    std::mt19937 rng(504);
    for (svg_rope_mode mode : {SVG_ROPE_INTERLEAVED, SVG_ROPE_HALF_SPLIT}) {
        Ctx ctx;
        const int64_t B = 2, H = 3, L = 7, D = 12;
        svg_tensor *x0 = new_t(ctx, SVG_TYPE_F32, {B, H, L, D});
        auto x0v = fill_nonzero(x0, rng);
        const int perm[4] = {0, 2, 1, 3};
        svg_tensor *x = svg_permute(ctx, x0, perm);
        std::vector<float> xv(B * L * H * D);
        for (int64_t b = 0; b < B; b++)
            for (int64_t h = 0; h < H; h++)
                for (int64_t l = 0; l < L; l++)
                    for (int64_t d = 0; d < D; d++)
                        xv[((b * L + l) * H + h) * D + d] = x0v[((b * H + h) * L + l) * D + d];
        std::vector<float> pos;
        for (int64_t l = 0; l < L; l++) pos.insert(pos.end(), {(float)l, 0.5f * (float)l, 3.f});
        svg_tensor *p = new_t(ctx, SVG_TYPE_F32, {L, 3});
        ASSERT_TRUE(svg_tensor_set_f32(p, pos.data(), (int64_t)pos.size()));
        const std::vector<int> axes = {4, 4, 4};
        svg_tensor *y = svg_rope(ctx, x, p, 3, axes.data(), 10000.f, mode);
        ASSERT_TRUE(compute(ctx, y));
        EXPECT_LT(rel_l2(to_vec(y), ref_rope(xv, {B, L, H, D}, pos, axes, 10000.f, mode)), kTol)
            << (mode == SVG_ROPE_INTERLEAVED ? "interleaved" : "half-split");
    }
}

// ================================================================= attention

struct AttnCase {
    int64_t B, H, Hkv, Lq, Lk, D, Dv;
    bool causal;
    int mask;       // 0 none, 1 f32, 2 i32
    int bias;       // 0 none, 1 [1,H,Lq,Lk], 2 [B,1,1,Lk], 3 [B,H,Lq,Lk]
    bool permuted;  // q, k, v as permuted views of [B, L, H, D]
    bool mask_full_batch;  // batch 1 (or 0 when B == 1) has every key masked
    float scale;            // 0: 1/sqrt(D)
};

std::string attn_name(const AttnCase &c) {
    std::ostringstream s;
    s << "B" << c.B << " H" << c.H << " Hkv" << c.Hkv << " Lq" << c.Lq << " Lk" << c.Lk << " D" << c.D
      << " Dv" << c.Dv << (c.causal ? " causal" : "") << " mask" << c.mask << " bias" << c.bias
      << (c.permuted ? " permuted" : "") << (c.mask_full_batch ? " fully-masked-batch" : "");
    return s.str();
}

// Contiguous [B, Hh, L, Dd] tensor, or a permuted view of a [B, L, Hh, Dd]
// one; returns the logical [B, Hh, L, Dd] values.
svg_tensor *make_bhld(svg_context *ctx, int64_t B, int64_t Hh, int64_t L, int64_t Dd, bool permuted,
                      std::mt19937 &rng, std::vector<float> &vals) {
    vals.assign(B * Hh * L * Dd, 0.f);
    if (!permuted) {
        svg_tensor *t = new_t(ctx, SVG_TYPE_F32, {B, Hh, L, Dd});
        vals = fill_nonzero(t, rng);
        return t;
    }
    svg_tensor *t0 = new_t(ctx, SVG_TYPE_F32, {B, L, Hh, Dd});
    auto v0 = fill_nonzero(t0, rng);
    for (int64_t b = 0; b < B; b++)
        for (int64_t l = 0; l < L; l++)
            for (int64_t h = 0; h < Hh; h++)
                for (int64_t d = 0; d < Dd; d++)
                    vals[((b * Hh + h) * L + l) * Dd + d] = v0[((b * L + l) * Hh + h) * Dd + d];
    const int perm[4] = {0, 2, 1, 3};
    svg_tensor *t = svg_permute(ctx, t0, perm);
    EXPECT_NE(t, nullptr) << svg_last_error();
    return t;
}

void run_attention(const AttnCase &c, std::mt19937 &rng, int n_threads = 2) {
    SCOPED_TRACE(attn_name(c));
    Ctx ctx;
    std::vector<float> qv, kv, vv;
    svg_tensor *q = make_bhld(ctx, c.B, c.H, c.Lq, c.D, c.permuted, rng, qv);
    svg_tensor *k = make_bhld(ctx, c.B, c.Hkv, c.Lk, c.D, c.permuted, rng, kv);
    svg_tensor *v = make_bhld(ctx, c.B, c.Hkv, c.Lk, c.Dv, c.permuted, rng, vv);

    // key mask
    std::vector<int> keep(c.B * c.Lk, 1);
    svg_tensor *mask = nullptr;
    if (c.mask || c.mask_full_batch) {
        std::bernoulli_distribution drop(0.3);
        for (int64_t b = 0; b < c.B; b++) {
            for (int64_t j = 0; j < c.Lk; j++) keep[b * c.Lk + j] = drop(rng) ? 0 : 1;
            keep[b * c.Lk + (b % c.Lk)] = 1;  // at least one key per batch
        }
        if (c.mask_full_batch) {
            const int64_t fb = c.B > 1 ? 1 : 0;
            for (int64_t j = 0; j < c.Lk; j++) keep[fb * c.Lk + j] = 0;
        }
        if (c.mask == 2) {
            mask = new_t(ctx, SVG_TYPE_I32, {c.B, c.Lk});
            std::vector<int32_t> mi(keep.size());
            // nonzero = attend: use assorted nonzero values
            for (size_t i = 0; i < keep.size(); i++) mi[i] = keep[i] ? (int32_t)(1 + i % 3) : 0;
            EXPECT_TRUE(svg_tensor_set(mask, mi.data(), 0, mi.size() * sizeof(int32_t)));
        } else {
            mask = new_t(ctx, SVG_TYPE_F32, {c.B, c.Lk});
            std::vector<float> mf(keep.size());
            for (size_t i = 0; i < keep.size(); i++) mf[i] = keep[i] ? 1.f : 0.f;
            EXPECT_TRUE(svg_tensor_set_f32(mask, mf.data(), (int64_t)mf.size()));
        }
    }

    // additive bias
    Shape bias_ne;
    std::vector<float> bv;
    svg_tensor *bias = nullptr;
    if (c.bias == 1) bias_ne = {1, c.H, c.Lq, c.Lk};
    if (c.bias == 2) bias_ne = {c.B, 1, 1, c.Lk};
    if (c.bias == 3) bias_ne = {c.B, c.H, c.Lq, c.Lk};
    if (c.bias) {
        bias = new_t(ctx, SVG_TYPE_F32, bias_ne);
        bv = fill_nonzero(bias, rng, -2.f, 2.f);
    }

    const float scale = c.scale != 0 ? c.scale : 1.f / std::sqrt((float)c.D);
    svg_tensor *y = svg_attention(ctx, q, k, v, bias, mask, scale, c.causal);
    ASSERT_TRUE(compute(ctx, y, n_threads));
    ASSERT_EQ(y->n_dims, 4);
    EXPECT_EQ(y->ne[0], c.B);
    EXPECT_EQ(y->ne[1], c.Lq);
    EXPECT_EQ(y->ne[2], c.H);
    EXPECT_EQ(y->ne[3], c.Dv);

    // reference
    const Shape full{c.B, c.H, c.Lq, c.Lk};
    std::vector<float> ref(c.B * c.Lq * c.H * c.Dv, 0.f);
    std::vector<uint8_t> row_empty(c.B * c.Lq * c.H, 0);
    const int64_t grp = c.H / c.Hkv;
    std::vector<double> sc(c.Lk);
    std::vector<char> ok(c.Lk);
    for (int64_t b = 0; b < c.B; b++)
        for (int64_t h = 0; h < c.H; h++) {
            const int64_t hk = h / grp;
            for (int64_t i = 0; i < c.Lq; i++) {
                double mx = -INFINITY;
                bool any = false;
                for (int64_t j = 0; j < c.Lk; j++) {
                    ok[j] = keep[b * c.Lk + j] && (!c.causal || j <= i + (c.Lk - c.Lq));
                    if (!ok[j]) continue;
                    double s = 0;
                    for (int64_t d = 0; d < c.D; d++)
                        s += (double)qv[((b * c.H + h) * c.Lq + i) * c.D + d] *
                             kv[((b * c.Hkv + hk) * c.Lk + j) * c.D + d];
                    s *= scale;
                    if (bias) s += bv[bcast_index(((b * c.H + h) * c.Lq + i) * c.Lk + j, full, bias_ne)];
                    sc[j] = s;
                    mx = std::max(mx, s);
                    any = true;
                }
                float *o = ref.data() + ((b * c.Lq + i) * c.H + h) * c.Dv;
                if (!any) {
                    row_empty[(b * c.Lq + i) * c.H + h] = 1;
                    continue;
                }
                double den = 0;
                std::vector<double> acc(c.Dv, 0.0);
                for (int64_t j = 0; j < c.Lk; j++) {
                    if (!ok[j]) continue;
                    const double p = std::exp(sc[j] - mx);
                    den += p;
                    for (int64_t e = 0; e < c.Dv; e++) acc[e] += p * vv[((b * c.Hkv + hk) * c.Lk + j) * c.Dv + e];
                }
                for (int64_t e = 0; e < c.Dv; e++) o[e] = (float)(acc[e] / den);
            }
        }
    auto out = to_vec(y);
    EXPECT_LT(rel_l2(out, ref), kTol);
    // rows with every key masked must be exactly zero
    int64_t bad = 0, n_empty = 0;
    for (int64_t r = 0; r < (int64_t)row_empty.size(); r++) {
        if (!row_empty[r]) continue;
        n_empty++;
        for (int64_t e = 0; e < c.Dv; e++)
            if (out[r * c.Dv + e] != 0.f) bad++;
    }
    EXPECT_EQ(bad, 0) << "nonzero outputs in " << n_empty << " fully masked rows";
}

TEST(Attention, HeadDims) {
    std::mt19937 rng(601);
    for (int64_t D : {12, 16, 64}) {
        run_attention({2, 3, 3, 9, 9, D, D, false, 0, 0, false, false, 0}, rng);
        run_attention({1, 2, 2, 37, 19, D, D, false, 0, 0, false, false, 0}, rng);
        run_attention({1, 2, 2, 5, 40, D, D, false, 0, 0, true, false, 0}, rng);
    }
    run_attention({1, 2, 2, 1, 1, 8, 8, false, 0, 0, false, false, 0}, rng);  // single key
    run_attention({2, 2, 2, 13, 17, 16, 16, false, 0, 0, false, false, 0.37f}, rng);  // custom scale
}

TEST(Attention, GQA) {
    std::mt19937 rng(602);
    run_attention({2, 4, 2, 11, 11, 16, 16, false, 0, 0, false, false, 0}, rng);
    run_attention({2, 4, 1, 11, 23, 16, 16, false, 0, 0, true, false, 0}, rng);
    run_attention({1, 4, 2, 37, 19, 64, 64, true, 1, 0, true, false, 0}, rng);
    run_attention({1, 6, 3, 7, 7, 12, 20, false, 2, 1, false, false, 0}, rng);
}

TEST(Attention, Causal) {
    std::mt19937 rng(603);
    run_attention({2, 3, 3, 17, 17, 16, 16, true, 0, 0, false, false, 0}, rng);
    run_attention({1, 2, 2, 7, 19, 16, 16, true, 0, 0, false, false, 0}, rng);   // Lq < Lk
    run_attention({1, 4, 2, 33, 33, 64, 64, true, 0, 0, true, false, 0}, rng);
    run_attention({1, 2, 2, 1, 13, 12, 12, true, 0, 0, false, false, 0}, rng);   // one query: sees all
    run_attention({1, 2, 2, 19, 7, 16, 16, true, 0, 0, false, false, 0}, rng);   // Lq > Lk: empty rows
    run_attention({2, 2, 2, 9, 12, 16, 16, true, 1, 2, false, false, 0}, rng);   // + mask + bias
}

TEST(Attention, KeyMask) {
    std::mt19937 rng(604);
    for (int m : {1, 2}) {
        run_attention({3, 2, 2, 11, 19, 16, 16, false, m, 0, false, false, 0}, rng);
        run_attention({3, 2, 2, 11, 19, 16, 16, false, m, 0, false, true, 0}, rng);  // batch 1 all masked
        run_attention({2, 4, 2, 37, 19, 64, 64, false, m, 0, true, true, 0}, rng);
        run_attention({1, 2, 1, 5, 9, 12, 12, false, m, 0, false, true, 0}, rng);   // only batch masked
    }
}

TEST(Attention, Bias) {
    std::mt19937 rng(605);
    run_attention({2, 3, 3, 9, 13, 16, 16, false, 0, 1, false, false, 0}, rng);   // T5-style [1,H,Lq,Lk]
    run_attention({2, 3, 3, 9, 13, 16, 16, false, 0, 2, false, false, 0}, rng);   // [B,1,1,Lk]
    run_attention({2, 3, 3, 9, 13, 16, 16, false, 0, 3, true, false, 0}, rng);    // full
    run_attention({2, 4, 4, 21, 21, 64, 64, false, 1, 1, true, false, 1.f}, rng); // T5: scale 1
    run_attention({2, 2, 2, 8, 11, 12, 12, false, 2, 2, false, true, 0}, rng);
}

TEST(Attention, PermutedLayoutAndDvDiffers) {
    std::mt19937 rng(606);
    run_attention({2, 3, 3, 17, 17, 16, 16, false, 0, 0, true, false, 0}, rng);
    run_attention({2, 3, 3, 17, 29, 16, 24, false, 0, 0, true, false, 0}, rng);
    run_attention({1, 2, 2, 13, 9, 12, 8, false, 1, 0, false, false, 0}, rng);
    run_attention({1, 4, 2, 10, 10, 64, 32, true, 0, 0, true, false, 0}, rng);
}

TEST(Attention, LargeScoresAndNegativeBias) {
    // scores in the hundreds (exp overflows without max subtraction) and an
    // additive bias with -1e9 entries (HF-style additive masks)
    std::mt19937 rng(608);
    run_attention({1, 2, 2, 9, 21, 64, 64, false, 0, 0, false, false, 40.f}, rng);
    run_attention({2, 2, 1, 9, 21, 16, 16, true, 1, 0, true, false, 100.f}, rng);
    {
        Ctx ctx;
        const int64_t B = 2, H = 2, L = 11, D = 16;
        std::vector<float> qv, kv, vv;
        svg_tensor *q = make_bhld(ctx, B, H, L, D, true, rng, qv);
        svg_tensor *k = make_bhld(ctx, B, H, L, D, true, rng, kv);
        svg_tensor *v = make_bhld(ctx, B, H, L, D, true, rng, vv);
        svg_tensor *bias = new_t(ctx, SVG_TYPE_F32, {B, 1, 1, L});
        std::vector<float> bv(B * L);
        for (int64_t i = 0; i < B * L; i++) bv[i] = (i % 3 == 1) ? -1e9f : 0.f;
        ASSERT_TRUE(svg_tensor_set_f32(bias, bv.data(), (int64_t)bv.size()));
        const float scale = 0.25f;
        svg_tensor *y = svg_attention(ctx, q, k, v, bias, nullptr, scale, false);
        ASSERT_TRUE(compute(ctx, y));
        std::vector<float> ref(B * L * H * D);
        for (int64_t b = 0; b < B; b++)
            for (int64_t h = 0; h < H; h++)
                for (int64_t i = 0; i < L; i++) {
                    std::vector<double> sc(L);
                    double mx = -INFINITY, den = 0;
                    for (int64_t j = 0; j < L; j++) {
                        double s = 0;
                        for (int64_t d = 0; d < D; d++)
                            s += (double)qv[((b * H + h) * L + i) * D + d] * kv[((b * H + h) * L + j) * D + d];
                        sc[j] = s * scale + bv[b * L + j];
                        mx = std::max(mx, sc[j]);
                    }
                    std::vector<double> acc(D, 0.0);
                    for (int64_t j = 0; j < L; j++) {
                        const double p = std::exp(sc[j] - mx);
                        den += p;
                        for (int64_t e = 0; e < D; e++) acc[e] += p * vv[((b * H + h) * L + j) * D + e];
                    }
                    for (int64_t e = 0; e < D; e++) ref[((b * L + i) * H + h) * D + e] = (float)(acc[e] / den);
                }
        EXPECT_LT(rel_l2(to_vec(y), ref), kTol) << "bias with -1e9 entries";
    }
    {
        // bias given as a transposed (non-contiguous) view
        Ctx ctx;
        const int64_t B = 1, H = 2, Lq = 5, Lk = 7, D = 8;
        std::vector<float> qv, kv, vv;
        svg_tensor *q = make_bhld(ctx, B, H, Lq, D, false, rng, qv);
        svg_tensor *k = make_bhld(ctx, B, H, Lk, D, false, rng, kv);
        svg_tensor *v = make_bhld(ctx, B, H, Lk, D, false, rng, vv);
        svg_tensor *b0 = new_t(ctx, SVG_TYPE_F32, {B, H, Lk, Lq});
        fill_nonzero(b0, rng);
        svg_tensor *bt = svg_transpose(ctx, b0, 2, 3);
        svg_tensor *y1 = svg_attention(ctx, q, k, v, bt, nullptr, 0.3f, false);
        svg_tensor *y2 = svg_attention(ctx, q, k, v, svg_cont(ctx, bt), nullptr, 0.3f, false);
        ASSERT_TRUE(compute(ctx, y1));
        ASSERT_TRUE(compute(ctx, y2));
        EXPECT_LT(rel_l2(to_vec(y1), to_vec(y2)), 1e-6) << "strided bias";
    }
}

TEST(Attention, LargerThreads) {
    // enough rows / keys to cross any tiling, 1 and 3 threads
    std::mt19937 rng(607);
    run_attention({1, 2, 2, 130, 130, 64, 64, false, 0, 0, true, false, 0}, rng, 1);
    run_attention({1, 2, 2, 130, 257, 64, 64, false, 1, 0, true, false, 0}, rng, 3);
    run_attention({1, 2, 1, 129, 129, 16, 16, true, 0, 0, false, false, 0}, rng, 2);
}

}  // namespace
