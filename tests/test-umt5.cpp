// umT5 / T5 v1.1 text encoders against the reference: convert the golden
// checkpoints (transformers layout, class detected from the tensors) with the
// converter, encode the recorded ids with their attention mask on the CPU
// (and on the GPU when there is one: the encoder computes in f32 there too),
// compare with last_hidden_state (padded rows included). Also: padding never
// changes the real tokens, the position buckets, and the converter's side.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "convert/convert.h"
#include "models/umt5.h"
#include "test-common.h"
#include "test-models.h"

namespace {

const std::string kGoldens = std::string(SVG_TEST_DATA) + "/goldens/";

std::string temp_path(const std::string &tag) {
    return "/tmp/svg-test-umt5-" + tag + "-" + std::to_string(getpid()) + ".gguf";
}

using svgtest::model_file;

// Convert `src` (a pipeline folder holding text_encoder/, or a checkpoint
// file) as component "text_encoder".
bool convert(const std::string &src, const std::string &config, svg_type type, const std::string &tag,
             model_file *out) {
    svg_convert_options opt;
    svg_convert_source s;
    s.component = "text_encoder";
    s.path = src;
    s.config_path = config;
    opt.sources.push_back(s);
    opt.output = out->path = temp_path(tag);
    opt.type = type;
    if (!svg_convert(opt)) return false;
    out->f = svg_gguf_open(opt.output.c_str());
    return out->f != nullptr;
}

// last_hidden_state of ids [B, L] with mask [B, L] (empty: none), f32 on be.
std::vector<float> encode(const umt5_encoder &m, svg_backend *be, int64_t B, int64_t L, const std::vector<int32_t> &ids,
                          const std::vector<float> &mask) {
    svg_context *ctx = svg_context_new(true);
    svg_host_inputs host;
    svg_tensor *t_ids = svg_new_tensor_2d(ctx, SVG_TYPE_I32, B, L);
    svg_set_input(t_ids);
    const int64_t ne[2] = {B, L};
    svg_tensor *t_mask = mask.empty() ? nullptr : host.add(ctx, 2, ne, mask, "attention_mask");
    svg_tensor *y = umt5_forward(ctx, m, t_ids, t_mask, &host);
    svg_set_output(y);
    svg_graph *g = svg_graph_new(ctx);
    svg_gallocr *ga = svg_gallocr_new(be);
    std::vector<float> out;
    const bool ok = y && svg_graph_build(g, y) && svg_gallocr_alloc_graph(ga, g) &&
                    svg_tensor_set(t_ids, ids.data(), 0, ids.size() * sizeof(int32_t)) && host.upload() &&
                    svg_backend_graph_compute(be, g);
    if (ok) {
        EXPECT_EQ(std::vector<int64_t>(y->ne, y->ne + y->n_dims), (std::vector<int64_t>{B, L, m.d_model}));
        out = svgtest::to_vec(y);
    } else {
        ADD_FAILURE() << svg_last_error();
    }
    svg_gallocr_free(ga);
    svg_graph_free(g);
    svg_context_free(ctx);
    return out;
}

// Relative L2 error of the encoder in `file` on the case's recorded forward,
// on the CPU or on the first CUDA device.
double golden_error(const model_file &file, const std::string &cse, bool cuda = false) {
    umt5_encoder m;
    svg_safetensors *in = svg_safetensors_open((kGoldens + cse + "/forward.safetensors").c_str());
    EXPECT_NE(in, nullptr) << svg_last_error();
    double err = INFINITY;
    svg_backend *be = svgtest::new_backend(cuda);
    EXPECT_NE(be, nullptr) << svg_last_error();
    if (in && be && umt5_load(file.f, be, &m)) {
        auto read = [&](const char *name, int64_t *ne) {
            const int64_t i = svg_safetensors_find(in, name);
            std::vector<float> v((size_t)svg_safetensors_nelements(in, i));
            EXPECT_TRUE(svg_safetensors_read_f32(in, i, v.data(), (int64_t)v.size())) << name;
            if (ne) svg_safetensors_shape(in, i, ne);
            return v;
        };
        int64_t ne[SVG_MAX_DIMS];
        const std::vector<float> ids_f = read("input_ids", ne), mask = read("attention_mask", nullptr);
        const std::vector<float> ref = read("last_hidden_state", nullptr);
        const std::vector<int32_t> ids(ids_f.begin(), ids_f.end());
        err = svgtest::rel_l2(encode(m, be, ne[0], ne[1], ids, mask), ref);
    } else if (in && be) {
        ADD_FAILURE() << svg_last_error();
    }
    if (be) svg_backend_free(be);
    if (in) svg_safetensors_free(in);
    return err;
}

// "umt5_encoder" (per-layer bias) and "t5_encoder" (layer 0's, shared)
class Encoder : public ::testing::TestWithParam<const char *> {};
INSTANTIATE_TEST_SUITE_P(Goldens, Encoder, ::testing::Values("umt5_encoder", "t5_encoder"));

const char *expected_class(const std::string &cse) {
    return cse == "umt5_encoder" ? "UMT5EncoderModel" : "T5EncoderModel";
}

TEST_P(Encoder, MatchesReference) {
    model_file file;
    ASSERT_TRUE(convert(kGoldens + GetParam(), "", SVG_TYPE_COUNT, "golden", &file)) << svg_last_error();
    // transformers configs have no _class_name: the tensors told the class
    const char *cls = svg_gguf_get_string(file.f, "svg.text_encoder.class");
    ASSERT_NE(cls, nullptr);
    EXPECT_STREQ(cls, expected_class(GetParam()));
    EXPECT_LE(golden_error(file, GetParam()), 1e-4);
}

// A bare model.safetensors: the config comes from the tensor shapes.
TEST_P(Encoder, InferredConfigMatchesReference) {
    model_file file;
    ASSERT_TRUE(
        convert(kGoldens + GetParam() + "/text_encoder/model.safetensors", "", SVG_TYPE_COUNT, "inferred", &file))
        << svg_last_error();
    EXPECT_STREQ(svg_gguf_get_string(file.f, "svg.text_encoder.class"), expected_class(GetParam()));
    EXPECT_LE(golden_error(file, GetParam()), 1e-4);
}

// q8_0 linear weights (the embedding included): rounded, so only close.
TEST_P(Encoder, Q8WeightsStayClose) {
    model_file file;
    ASSERT_TRUE(convert(kGoldens + GetParam(), "", SVG_TYPE_Q8_0, "q8", &file)) << svg_last_error();
    const int64_t i = svg_gguf_find_tensor(file.f, "te.shared.weight");
    ASSERT_GE(i, 0);
    EXPECT_EQ(svg_gguf_tensor_type(file.f, i), SVG_TYPE_Q8_0);
    EXPECT_LE(golden_error(file, GetParam()), 3e-2);
}

// On the GPU. The encoder has no activation-type choice (umt5_forward
// computes in f32 on every backend), so the fp32 tolerance holds; q8_0
// weights keep the CPU test's bound.
class EncoderCuda : public ::testing::TestWithParam<const char *> {};
INSTANTIATE_TEST_SUITE_P(Goldens, EncoderCuda, ::testing::Values("umt5_encoder", "t5_encoder"));

TEST_P(EncoderCuda, MatchesReference) {
    SVG_NEED_CUDA();
    model_file file;
    ASSERT_TRUE(convert(kGoldens + GetParam(), "", SVG_TYPE_COUNT, "golden-cuda", &file)) << svg_last_error();
    EXPECT_LE(golden_error(file, GetParam(), true), 1e-4);
}

TEST_P(EncoderCuda, Q8WeightsStayClose) {
    SVG_NEED_CUDA();
    model_file file;
    ASSERT_TRUE(convert(kGoldens + GetParam(), "", SVG_TYPE_Q8_0, "q8-cuda", &file)) << svg_last_error();
    EXPECT_LE(golden_error(file, GetParam(), true), 3e-2);
}

// The model file: hyper-parameters under svg.text_encoder.*, the bias tables
// where the class has them, under names that fit GGUF's 63 bytes.
TEST_P(Encoder, ModelFileLayout) {
    model_file file;
    ASSERT_TRUE(convert(kGoldens + GetParam(), "", SVG_TYPE_COUNT, "layout", &file)) << svg_last_error();
    int64_t v = 0;
    EXPECT_TRUE(svg_gguf_get_int(file.f, "svg.text_encoder.d_model", &v));
    EXPECT_EQ(v, 32);
    EXPECT_TRUE(svg_gguf_get_int(file.f, "svg.text_encoder.relative_attention_max_distance", &v));
    EXPECT_EQ(v, 128);
    EXPECT_STREQ(svg_gguf_get_string(file.f, "svg.text_encoder.feed_forward_proj"), "gated-gelu");
    EXPECT_STREQ(svg_gguf_get_string(file.f, "svg.text_encoder.tensor_prefix"), "te.");
    const bool umt5 = std::string(GetParam()) == "umt5_encoder";
    EXPECT_GE(svg_gguf_find_tensor(file.f, "te.encoder.block.0.layer.0.SelfAttention.relative_bias.weight"), 0);
    EXPECT_EQ(svg_gguf_find_tensor(file.f, "te.encoder.block.1.layer.0.SelfAttention.relative_bias.weight") >= 0, umt5);
    EXPECT_EQ(svg_gguf_n_tensors(file.f), umt5 ? 22 : 21);
}

// The engine encodes the real tokens only: padding appended under the mask
// leaves them as they were (the mask removes the padded keys).
TEST(UMT5Encoder, PaddingLeavesRealTokensUnchanged) {
    model_file file;
    ASSERT_TRUE(convert(kGoldens + "umt5_encoder", "", SVG_TYPE_COUNT, "pad", &file)) << svg_last_error();
    umt5_encoder m;
    svg_backend *be = svg_backend_cpu_new(2);
    ASSERT_TRUE(umt5_load(file.f, be, &m)) << svg_last_error();
    const std::vector<int32_t> real = {83, 253, 295, 579, 305, 139, 1};
    std::vector<int32_t> padded = real;
    padded.resize(12, 0);
    std::vector<float> mask(12, 0.0f);
    std::fill(mask.begin(), mask.begin() + 7, 1.0f);
    const std::vector<float> a = encode(m, be, 1, 7, real, {});
    const std::vector<float> b = encode(m, be, 1, 12, padded, mask);
    ASSERT_EQ(a.size(), (size_t)(7 * m.d_model));
    ASSERT_EQ(b.size(), (size_t)(12 * m.d_model));
    EXPECT_LE(svgtest::max_abs_diff(std::vector<float>(b.begin(), b.begin() + (long)a.size()), a), 1e-6);
    svg_backend_free(be);
}

// transformers' _relative_position_bucket (bidirectional) at 32 buckets and
// max distance 128, the setting of umT5-XXL and T5 v1.1: 16 per direction,
// exact below 8, log-spaced to 128, the last bucket beyond.
TEST(UMT5Encoder, RelativePositionBuckets) {
    const std::vector<std::pair<int64_t, int64_t>> expect = {
        {0, 0},     {-1, 1}, {-7, 7}, {-8, 8}, {-15, 9}, {-16, 10}, {-32, 12}, {-63, 13}, {-64, 14}, {-100, 15},
        {-600, 15}, {1, 17}, {7, 23}, {8, 24}, {16, 26}, {31, 27},  {64, 30},  {127, 31}, {128, 31}, {511, 31},
    };
    for (const auto &e : expect) EXPECT_EQ(umt5_relative_position_bucket(e.first, 32, 128), e.second) << e.first;
}

// A config naming one class on the other's checkpoint is refused, saying why.
TEST(UMT5Encoder, ClassMustMatchTheBiasLayout) {
    model_file file;
    const std::string config = "/tmp/svg-test-umt5-config-" + std::to_string(getpid()) + ".json";
    {
        FILE *f = fopen(config.c_str(), "w");
        ASSERT_NE(f, nullptr);
        fputs(R"({"_class_name": "T5EncoderModel", "vocab_size": 1000, "d_model": 32, "d_kv": 8, "d_ff": 64,
                  "num_layers": 2, "num_heads": 4, "relative_attention_num_buckets": 32,
                  "relative_attention_max_distance": 128, "layer_norm_epsilon": 1e-6,
                  "feed_forward_proj": "gated-gelu"})",
              f);
        fclose(f);
    }
    EXPECT_FALSE(convert(kGoldens + "umt5_encoder", config, SVG_TYPE_COUNT, "mismatch", &file));
    EXPECT_NE(std::string(svg_last_error()).find("a umT5 encoder, not a T5EncoderModel"), std::string::npos)
        << svg_last_error();
    unlink(config.c_str());
}

}  // namespace
