// Wan 2.1 transformer against the reference: convert the golden checkpoints
// (diffusers folder and original single-file naming) with the converter, run
// transformer_forward's inputs, compare with its recorded output.
#include <unistd.h>

#include <string>

#include "convert/convert.h"
#include "models/forward.h"
#include "models/wan.h"
#include "test-common.h"
#include "test-models.h"

namespace {

const std::string kData = SVG_TEST_DATA;

std::string temp_path(const std::string &tag) {
    return "/tmp/svg-test-wan-" + tag + "-" + std::to_string(getpid()) + ".gguf";
}

// Convert one golden case (weights in `type`; COUNT: as stored), run its
// forward on the CPU in f32 or on the first CUDA device with activations
// `act`; rel L2 vs "out".
double golden_error(const std::string &cse, bool original_naming, svg_type type = SVG_TYPE_COUNT, bool cuda = false,
                    svg_type act = SVG_TYPE_F32) {
    svg_convert_options opt;
    svg_convert_source src;
    const std::string dir = kData + "/goldens/" + cse;
    if (original_naming) {
        src.path = dir + "/transformer_original_naming.safetensors";
        src.config_path = dir + "/transformer/config.json";  // tiny head size: not inferable
    } else {
        src.path = dir + "/transformer";
    }
    opt.sources.push_back(src);
    opt.output = temp_path(cse + (original_naming ? "-orig" : "-diffusers"));
    opt.type = type;
    EXPECT_TRUE(svg_convert(opt)) << svg_last_error();
    svg_gguf *f = svg_gguf_open(opt.output.c_str());
    svg_safetensors *in = svg_safetensors_open((dir + "/transformer_forward.safetensors").c_str());
    EXPECT_NE(f, nullptr) << svg_last_error();
    EXPECT_NE(in, nullptr) << svg_last_error();
    double err = INFINITY;
    if (f && in) {
        svg_backend *be = svgtest::new_backend(cuda);
        EXPECT_NE(be, nullptr) << svg_last_error();
        svg_forward_result res;
        if (be && svg_forward_component(f, "transformer", be, act, in, &res)) {
            const int64_t i = svg_safetensors_find(in, "out");
            std::vector<float> ref((size_t)svg_safetensors_nelements(in, i));
            svg_safetensors_read_f32(in, i, ref.data(), (int64_t)ref.size());
            int64_t ne[SVG_MAX_DIMS];
            svg_safetensors_shape(in, i, ne);
            const svg_forward_tensor *o = res.get("out");
            EXPECT_NE(o, nullptr);
            if (o) {
                EXPECT_EQ(o->shape, std::vector<int64_t>(ne, ne + svg_safetensors_n_dims(in, i)));
                err = svgtest::rel_l2(o->values, ref);
            }
        } else {
            ADD_FAILURE() << svg_last_error();
        }
        if (be) svg_backend_free(be);
    }
    if (in) svg_safetensors_free(in);
    if (f) svg_gguf_free(f);
    unlink(opt.output.c_str());
    return err;
}

TEST(WanTransformer, T2VDiffusersFolderMatchesReference) { EXPECT_LE(golden_error("wan_t2v", false), 1e-4); }
TEST(WanTransformer, T2VOriginalNamingMatchesReference) { EXPECT_LE(golden_error("wan_t2v", true), 1e-4); }
TEST(WanTransformer, I2VDiffusersFolderMatchesReference) { EXPECT_LE(golden_error("wan_i2v", false), 1e-4); }
TEST(WanTransformer, I2VOriginalNamingMatchesReference) { EXPECT_LE(golden_error("wan_i2v", true), 1e-4); }
// f16 linear weights: the reference's weights rounded, so only close
TEST(WanTransformer, F16WeightsStayClose) { EXPECT_LE(golden_error("wan_t2v", false, SVG_TYPE_F16), 1e-2); }

// On the GPU: bf16 activations within the goldens' 2e-2, both namings and
// both variants; q8_0 / q4_0 weights on top of bf16 activations.
TEST(WanTransformerCuda, T2VBf16MatchesReference) {
    SVG_NEED_CUDA();
    EXPECT_LE(golden_error("wan_t2v", false, SVG_TYPE_COUNT, true, SVG_TYPE_BF16), 2e-2);
    EXPECT_LE(golden_error("wan_t2v", true, SVG_TYPE_COUNT, true, SVG_TYPE_BF16), 2e-2);
}
TEST(WanTransformerCuda, I2VBf16MatchesReference) {
    SVG_NEED_CUDA();
    EXPECT_LE(golden_error("wan_i2v", false, SVG_TYPE_COUNT, true, SVG_TYPE_BF16), 2e-2);
    EXPECT_LE(golden_error("wan_i2v", true, SVG_TYPE_COUNT, true, SVG_TYPE_BF16), 2e-2);
}
TEST(WanTransformerCuda, F16MatchesReference) {
    SVG_NEED_CUDA();
    EXPECT_LE(golden_error("wan_t2v", false, SVG_TYPE_F16, true, SVG_TYPE_F16), 2e-2);
}
TEST(WanTransformerCuda, Q8_0WeightsMatchReference) {
    SVG_NEED_CUDA();
    EXPECT_LE(golden_error("wan_t2v", false, SVG_TYPE_Q8_0, true, SVG_TYPE_BF16), 3e-2);
    EXPECT_LE(golden_error("wan_i2v", false, SVG_TYPE_Q8_0, true, SVG_TYPE_BF16), 3e-2);
}
TEST(WanTransformerCuda, Q4_0WeightsStayClose) {
    SVG_NEED_CUDA();
    // 4-bit weights: no reference tolerance; an order of magnitude over q8_0's
    EXPECT_LE(golden_error("wan_t2v", false, SVG_TYPE_Q4_0, true, SVG_TYPE_BF16), 2e-1);
}
TEST(WanTransformerCuda, F32MatchesReference) {
    SVG_NEED_CUDA();
    EXPECT_LE(golden_error("wan_t2v", false, SVG_TYPE_COUNT, true, SVG_TYPE_F32), 1e-4);
}

// Sparse VideoGen in the transformer (the golden weights on a larger latent:
// 5 × 16 × 16 = 1280 tokens, so density 0.3 really drops key blocks): a full
// band equals dense attention (the temporal heads' rows permuted and back),
// all layers kept dense equals dense, density 0.3 differs but stays sane.
TEST(WanTransformer, SparseAttentionInTheBlocks) {
    svg_convert_options opt;
    svg_convert_source src;
    src.path = kData + "/goldens/wan_t2v/transformer";
    opt.sources.push_back(src);
    opt.output = temp_path("sparse");
    ASSERT_TRUE(svg_convert(opt)) << svg_last_error();
    svg_gguf *f = svg_gguf_open(opt.output.c_str());
    ASSERT_NE(f, nullptr) << svg_last_error();
    svg_backend *be = svg_backend_cpu_new(2);
    wan_transformer m;
    ASSERT_TRUE(wan_transformer_load(f, be, &m)) << svg_last_error();
    std::mt19937 rng(8);
    auto randn = [&](size_t n) { return svgtest::normal_values(n, rng); };
    const std::vector<float> lat = randn(16 * 5 * 32 * 32), txt = randn(8 * (size_t)m.text_dim);
    const int64_t xs[5] = {1, 16, 5, 32, 32}, ts[1] = {1}, tx[3] = {1, 8, m.text_dim};
    svgtest::check_sparse_blocks(be, (int)m.layers, [&](svg_context *ctx, svg_host_inputs *host, const dit_sparse_attention *sparse) {
        return wan_transformer_forward(ctx, m, host->add(ctx, 5, xs, lat, "x"), host->add(ctx, 1, ts, {500.f}, "t"),
                                       host->add(ctx, 3, tx, txt, "text"), nullptr, SVG_TYPE_F32, host, sparse);
    }, "wan");
    svg_backend_free(be);
    svg_gguf_free(f);
    unlink(opt.output.c_str());
}

// Bad inputs are refused with a message, never a crash.
TEST(WanTransformer, RejectsBadInputs) {
    svg_convert_options opt;
    svg_convert_source src;
    src.path = kData + "/goldens/wan_t2v/transformer";
    opt.sources.push_back(src);
    opt.output = temp_path("bad");
    ASSERT_TRUE(svg_convert(opt)) << svg_last_error();
    svg_gguf *f = svg_gguf_open(opt.output.c_str());
    ASSERT_NE(f, nullptr);
    svg_backend *be = svg_backend_cpu_new(1);
    // latents whose height is not a multiple of the patch
    svg_context *hc = svg_context_new(false);
    auto T = [&](const char *name, std::vector<int64_t> ne) {
        svg_tensor *t = svg_set_name(svg_new_tensor(hc, SVG_TYPE_F32, (int)ne.size(), ne.data()), name);
        std::vector<float> v((size_t)svg_nelements(t), 0.5f);
        svg_tensor_set_f32(t, v.data(), (int64_t)v.size());
        return t;
    };
    const svg_tensor *ts[3] = {T("hidden_states", {1, 16, 3, 5, 4}), T("timestep", {1}), T("encoder_hidden_states", {1, 7, 32})};
    const std::string in_path = "/tmp/svg-test-wan-in-" + std::to_string(getpid()) + ".safetensors";
    ASSERT_TRUE(svg_safetensors_write(in_path.c_str(), ts, 3)) << svg_last_error();
    svg_safetensors *in = svg_safetensors_open(in_path.c_str());
    ASSERT_NE(in, nullptr);
    svg_forward_result res;
    EXPECT_FALSE(svg_forward_component(f, "transformer", be, SVG_TYPE_F32, in, &res));
    EXPECT_NE(std::string(svg_last_error()).find("multiple of the patch"), std::string::npos) << svg_last_error();
    EXPECT_FALSE(svg_forward_component(f, "vae", be, SVG_TYPE_F32, in, &res));
    svg_safetensors_free(in);
    svg_context_free(hc);
    svg_backend_free(be);
    svg_gguf_free(f);
    unlink(in_path.c_str());
    unlink(opt.output.c_str());
}

}  // namespace
