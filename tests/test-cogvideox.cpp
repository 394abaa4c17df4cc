// CogVideoX 1.5 against the reference: the transformer's golden forwards
// (T2V, I2V with ofs), the 3D RoPE tables the reference pipeline computed,
// Sparse VideoGen in its text-first layout, and the goldens' pipelines
// (DDIM, [uncond, cond] batched, 4 steps) through svg_forward_component.
// CPU f32: forward ≤ 1e-4, pipeline ≤ 1e-3; the *Cuda suites repeat them in
// bf16 on the GPU (≤ 2e-2).
#include <random>
#include <string>

#include "models/cogvideox.h"
#include "models/forward.h"
#include "test-common.h"
#include "test-models.h"

namespace {

const std::string kGoldens = std::string(SVG_TEST_DATA) + "/goldens/";

struct st_free {
    void operator()(svg_safetensors *s) const { svg_safetensors_free(s); }
};
using st_ptr = std::unique_ptr<svg_safetensors, st_free>;

// The case's pipeline folder (transformer, VAE, scheduler) converted.
svgtest::converted convert_case(const std::string &cse, bool cuda) {
    const std::string dir = kGoldens + cse;
    return svgtest::converted({svgtest::source(dir + "/transformer"), svgtest::source(dir + "/vae")}, cuda, "cogvideox-" + cse,
                              dir + "/scheduler/scheduler_config.json");
}

// svg_forward_component on the case's `golden` inputs; max rel L2 over `outputs` (name in both files).
double component_error(const std::string &cse, const char *component, const char *golden, const std::vector<const char *> &outputs,
                       bool cuda, svg_type act = SVG_TYPE_F32, int steps = 4) {
    svg_forward_options opt;
    opt.act = act;
    opt.steps = steps;
    opt.cfg = 6.0f;
    return svgtest::forward_max_error(convert_case(cse, cuda), component, kGoldens + cse + "/" + golden, opt, outputs, cse + " " + component);
}

const std::vector<const char *> kPipelineOutputs = {"latents_step0", "latents_step1", "latents_step2", "latents_step3", "video"};

}  // namespace

TEST(CogVideoXTransformer, T2VMatchesReference) {
    EXPECT_LE(component_error("cogvideox15_t2v", "transformer", "transformer_forward.safetensors", {"out"}, false), 1e-4);
}
TEST(CogVideoXTransformer, I2VMatchesReference) {
    EXPECT_LE(component_error("cogvideox15_i2v", "transformer", "transformer_forward.safetensors", {"out"}, false), 1e-4);
}
TEST(CogVideoXPipeline, T2VLatentsAndVideoMatchReference) {
    EXPECT_LE(component_error("cogvideox15_t2v", "pipeline", "pipeline.safetensors", kPipelineOutputs, false), 1e-3);
}
TEST(CogVideoXPipeline, I2VLatentsAndVideoMatchReference) {
    EXPECT_LE(component_error("cogvideox15_i2v", "pipeline", "pipeline.safetensors", kPipelineOutputs, false), 1e-3);
}

TEST(CogVideoXTransformerCuda, Bf16MatchesReference) {
    SVG_NEED_CUDA();
    for (const char *cse : {"cogvideox15_t2v", "cogvideox15_i2v"})
        EXPECT_LE(component_error(cse, "transformer", "transformer_forward.safetensors", {"out"}, true, SVG_TYPE_BF16), 2e-2) << cse;
}
TEST(CogVideoXPipelineCuda, Bf16LatentsAndVideoMatchReference) {
    SVG_NEED_CUDA();
    for (const char *cse : {"cogvideox15_t2v", "cogvideox15_i2v"})
        EXPECT_LE(component_error(cse, "pipeline", "pipeline.safetensors", kPipelineOutputs, true, SVG_TYPE_BF16), 2e-2) << cse;
}
TEST(CogVideoXPipelineCuda, F32LatentsAndVideoMatchReference) {
    SVG_NEED_CUDA();
    for (const char *cse : {"cogvideox15_t2v", "cogvideox15_i2v"})
        EXPECT_LE(component_error(cse, "pipeline", "pipeline.safetensors", kPipelineOutputs, true, SVG_TYPE_F32), 1e-3) << cse;
}

namespace {

// The engine's own 3D RoPE against the tables the reference pipeline
// computed for a forward's size (cos and sin repeated per interleaved pair):
// RoPE applied to (1, 0) pairs gives (cos, sin) of each pair's angle.
void check_rope(const std::string &transformer, const std::string &forward) {
    svgtest::converted file({svgtest::source(transformer)}, false, "cogvideox-rope");
    ASSERT_TRUE(file.ok());
    cogvideox_transformer m;
    ASSERT_TRUE(cogvideox_transformer_load(file.f.get(), file.be.get(), &m)) << svg_last_error();
    st_ptr in(svg_safetensors_open(forward.c_str()));
    ASSERT_NE(in, nullptr);
    std::vector<int64_t> cs, hs;
    const std::vector<float> cos_ref = svgtest::read_tensor(in.get(), "image_rotary_emb.0", &cs), sin_ref = svgtest::read_tensor(in.get(), "image_rotary_emb.1");
    svgtest::read_tensor(in.get(), "hidden_states", &hs);  // [B, F, C, H, W]
    const int64_t F = hs[1] / m.patch_t, rows = hs[3] / m.patch, cols = hs[4] / m.patch, D = m.head_dim, L = F * rows * cols;
    ASSERT_EQ(cs, (std::vector<int64_t>{L, D}));
    svg_context *ctx = svg_context_new(false);
    svg_tensor *x = svg_new_tensor_4d(ctx, SVG_TYPE_F32, 1, L, 1, D);
    svg_tensor *pos = svg_new_tensor_2d(ctx, SVG_TYPE_F32, L, 3);
    std::vector<float> ones((size_t)(L * D), 0.f);
    for (size_t i = 0; i < ones.size(); i += 2) ones[i] = 1.f;
    ASSERT_TRUE(svg_tensor_set_f32(x, ones.data(), (int64_t)ones.size()));
    const std::vector<float> p = cogvideox_rope_positions(0, F, rows, cols);
    ASSERT_TRUE(svg_tensor_set_f32(pos, p.data(), (int64_t)p.size()));
    int axes[3];
    cogvideox_rope_axes(m, axes);
    svg_tensor *y = svg_rope(ctx, x, pos, 3, axes, 10000.f, SVG_ROPE_INTERLEAVED);
    ASSERT_TRUE(svgtest::compute(ctx, y));
    const std::vector<float> got = svgtest::to_vec(y);
    std::vector<float> c, s, cr, sr;
    for (int64_t l = 0; l < L; l++)
        for (int64_t i = 0; i < D; i += 2) {
            c.push_back(got[(size_t)(l * D + i)]);
            s.push_back(got[(size_t)(l * D + i + 1)]);
            cr.push_back(cos_ref[(size_t)(l * D + i)]);
            sr.push_back(sin_ref[(size_t)(l * D + i)]);
            ASSERT_EQ(cos_ref[(size_t)(l * D + i)], cos_ref[(size_t)(l * D + i + 1)]) << "the reference repeats each pair's cos";
        }
    EXPECT_LE(svgtest::max_abs_diff(c, cr), 1e-5) << forward;
    EXPECT_LE(svgtest::max_abs_diff(s, sr), 1e-5) << forward;
    svg_context_free(ctx);
}

// one forward of a converted transformer folder on a safetensors of inputs; rel L2 vs "out"
double forward_error(const std::string &transformer, const std::string &forward, bool cuda, svg_type act = SVG_TYPE_F32) {
    svg_forward_options opt;
    opt.act = act;
    return svgtest::forward_max_error(svgtest::converted({svgtest::source(transformer)}, cuda, "cogvideox-forward"), "transformer", forward, opt,
                                      {"out"}, forward);
}

const std::string kExtra = std::string(SVG_TEST_DATA) + "/cogvideox_extra/";

}  // namespace

TEST(CogVideoXTransformer, RopeTablesMatchTheReference) {
    check_rope(kGoldens + "cogvideox15_t2v/transformer", kGoldens + "cogvideox15_t2v/transformer_forward.safetensors");
    check_rope(kGoldens + "cogvideox15_t2v/transformer", kExtra + "t2v_forward.safetensors");  // 8 × 4 latents
    check_rope(kExtra + "transformer_i2v", kExtra + "i2v_forward.safetensors");                 // 32-dim heads, 6 × 10
}

// Held-out: another configuration (3 heads of 32 dims, no affine norms, ofs)
// on a non-square latent, and the golden transformer at another size
// (tests/data/cogvideox_extra/make_extra.py).
TEST(CogVideoXTransformer, HeldOutSizesAndConfigMatchReference) {
    EXPECT_LE(forward_error(kExtra + "transformer_i2v", kExtra + "i2v_forward.safetensors", false), 1e-4);
    EXPECT_LE(forward_error(kGoldens + "cogvideox15_t2v/transformer", kExtra + "t2v_forward.safetensors", false), 1e-4);
}

TEST(CogVideoXTransformerCuda, HeldOutBf16MatchesReference) {
    SVG_NEED_CUDA();
    EXPECT_LE(forward_error(kExtra + "transformer_i2v", kExtra + "i2v_forward.safetensors", true, SVG_TYPE_BF16), 2e-2);
    EXPECT_LE(forward_error(kGoldens + "cogvideox15_t2v/transformer", kExtra + "t2v_forward.safetensors", true, SVG_TYPE_BF16), 2e-2);
}

// Sparse VideoGen in the text-first layout (svgtest::check_sparse_blocks).
TEST(CogVideoXTransformer, SparseAttentionInTheBlocks) {
    svgtest::converted file = convert_case("cogvideox15_t2v", false);
    ASSERT_TRUE(file.ok());
    cogvideox_transformer m;
    ASSERT_TRUE(cogvideox_transformer_load(file.f.get(), file.be.get(), &m)) << svg_last_error();
    std::mt19937 rng(11);
    auto randn = [&](size_t n) { return svgtest::normal_values(n, rng); };
    // 8 latent frames (4 patched) of 32×32 latents: 4 frames of 256 tokens after 226 text tokens
    const int64_t xs[5] = {1, 8, 16, 32, 32}, ts[1] = {1}, tx[3] = {1, 226, m.text_dim};
    const std::vector<float> lat = randn(8 * 16 * 32 * 32), txt = randn(226 * (size_t)m.text_dim);
    svgtest::check_sparse_blocks(file.be.get(), (int)m.layers, [&](svg_context *ctx, svg_host_inputs *host, const dit_sparse_attention *sparse) {
        return cogvideox_transformer_forward(ctx, m, host->add(ctx, 5, xs, lat, "x"), host->add(ctx, 1, ts, {600.f}, "t"),
                                             host->add(ctx, 3, tx, txt, "text"), nullptr, SVG_TYPE_F32, host, sparse);
    }, "cogvideox");
}

// Bad inputs are refused with a message, never a crash.
TEST(CogVideoXTransformer, RejectsBadInputs) {
    svgtest::converted file = convert_case("cogvideox15_i2v", false);
    ASSERT_TRUE(file.ok());
    cogvideox_transformer m;
    ASSERT_TRUE(cogvideox_transformer_load(file.f.get(), file.be.get(), &m)) << svg_last_error();
    svg_context *ctx = svg_context_new(true);
    svg_host_inputs host;
    auto t = [&](std::vector<int64_t> s) {
        size_t n = 1;
        for (int64_t d : s) n *= (size_t)d;
        return host.add(ctx, (int)s.size(), s.data(), std::vector<float>(n, 0.5f), "t");
    };
    // 3 latent frames: not a multiple of patch_size_t 2
    EXPECT_EQ(cogvideox_transformer_forward(ctx, m, t({1, 3, 32, 4, 4}), t({1}), t({1, 226, 32}), t({1}), SVG_TYPE_F32, &host), nullptr);
    EXPECT_NE(std::string(svg_last_error()).find("not a multiple of the patch"), std::string::npos) << svg_last_error();
    // 16 channels for a 32-channel I2V model
    EXPECT_EQ(cogvideox_transformer_forward(ctx, m, t({1, 2, 16, 4, 4}), t({1}), t({1, 226, 32}), t({1}), SVG_TYPE_F32, &host), nullptr);
    EXPECT_NE(std::string(svg_last_error()).find("[B, F, 32, H, W]"), std::string::npos) << svg_last_error();
    // no ofs for a model with an ofs embedding
    EXPECT_EQ(cogvideox_transformer_forward(ctx, m, t({1, 2, 32, 4, 4}), t({1}), t({1, 226, 32}), nullptr, SVG_TYPE_F32, &host), nullptr);
    EXPECT_NE(std::string(svg_last_error()).find("ofs"), std::string::npos) << svg_last_error();
    svg_context_free(ctx);
}
