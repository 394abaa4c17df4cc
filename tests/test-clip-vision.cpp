// CLIP vision encoder (Wan I2V's image encoder) and its image preprocessing
// against the reference: image.png → CLIPImageProcessor → pixel_values →
// CLIPVisionModel → hidden_states[-2], recorded with transformers. The
// ClipVisionCuda suite runs the encoder on the first CUDA device (f32 there
// too: the fp32 tolerance).
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "convert/convert.h"
#include "models/clip-vision.h"
#include "src/image.h"
#include "test-common.h"
#include "test-models.h"

namespace {

const std::string kCase = std::string(SVG_TEST_DATA) + "/goldens/clip_vision/";

using svgtest::model_file;

bool convert(const std::string &src, model_file *out) {
    svg_convert_options opt;
    svg_convert_source s;
    s.component = "image_encoder";
    s.path = src;
    opt.sources.push_back(s);
    opt.output = out->path = "/tmp/svg-test-clip-vision-" + std::to_string(getpid()) + ".gguf";
    if (!svg_convert(opt)) return false;
    out->f = svg_gguf_open(opt.output.c_str());
    return out->f != nullptr;
}

// A tensor of the recorded forward as f32 (shape into *ne when given).
std::vector<float> golden(const char *name, std::vector<int64_t> *ne = nullptr) {
    std::vector<float> v;
    svg_safetensors *st = svg_safetensors_open((kCase + "forward.safetensors").c_str());
    EXPECT_NE(st, nullptr) << svg_last_error();
    if (!st) return v;
    const int64_t i = svg_safetensors_find(st, name);
    EXPECT_GE(i, 0) << name;
    if (i >= 0) {
        v.resize((size_t)svg_safetensors_nelements(st, i));
        EXPECT_TRUE(svg_safetensors_read_f32(st, i, v.data(), (int64_t)v.size())) << svg_last_error();
        if (ne) {
            ne->resize((size_t)svg_safetensors_n_dims(st, i));
            svg_safetensors_shape(st, i, ne->data());
        }
    }
    svg_safetensors_free(st);
    return v;
}

// Penultimate hidden states of pixel values [1, 3, S, S] on the CPU (or on
// the first CUDA device).
std::vector<float> encode(const model_file &file, const std::vector<float> &pixels, bool cuda = false) {
    clip_vision m;
    svg_backend *be = svgtest::new_backend(cuda);
    std::vector<float> out;
    if (!be || !clip_vision_load(file.f, be, &m)) {
        ADD_FAILURE() << svg_last_error();
        if (be) svg_backend_free(be);
        return out;
    }
    svg_context *ctx = svg_context_new(true);
    svg_host_inputs host;
    const int64_t ne[4] = {1, m.channels, m.image_size, m.image_size};
    svg_tensor *x = host.add(ctx, 4, ne, pixels, "pixel_values");
    svg_tensor *y = clip_vision_forward(ctx, m, x, &host);
    svg_gallocr *ga = svg_gallocr_new(be);
    if (y) {
        EXPECT_EQ(std::vector<int64_t>(y->ne, y->ne + y->n_dims), (std::vector<int64_t>{1, 257, m.hidden}));
    }
    EXPECT_TRUE(svg_compute_to_host(be, ga, ctx, y, host, &out)) << svg_last_error();
    svg_gallocr_free(ga);
    svg_context_free(ctx);
    svg_backend_free(be);
    return out;
}

double max_abs_diff(const std::vector<float> &a, const std::vector<float> &b) {
    EXPECT_EQ(a.size(), b.size());
    double d = 0;
    for (size_t i = 0; i < std::min(a.size(), b.size()); i++) d = std::max(d, (double)std::fabs(a[i] - b[i]));
    return d;
}

std::vector<float> preprocess_golden_image() {
    svg_image img;
    std::vector<float> px;
    EXPECT_TRUE(svg_image_load((kCase + "image.png").c_str(), &img)) << svg_last_error();
    EXPECT_TRUE(svg_image_clip_preprocess(img, svg_clip_image_config{}, &px)) << svg_last_error();
    return px;
}

}  // namespace

// stb_image decodes the PNG to the bytes PIL read.
TEST(ClipImage, DecodesLikePil) {
    svg_image img;
    ASSERT_TRUE(svg_image_load((kCase + "image.png").c_str(), &img)) << svg_last_error();
    std::vector<int64_t> ne;
    const std::vector<float> ref = golden("image_uint8", &ne);
    ASSERT_EQ(ne, (std::vector<int64_t>{img.height, img.width, 3}));
    EXPECT_EQ(max_abs_diff(std::vector<float>(img.rgb.begin(), img.rgb.end()), ref), 0.0);
}

// The bicubic resize (torch's uint8 arithmetic: every byte equal), crop and
// normalization reproduce pixel_values up to float rounding.
TEST(ClipImage, PreprocessingMatchesReference) {
    const std::vector<float> px = preprocess_golden_image(), ref = golden("pixel_values");
    const double d = max_abs_diff(px, ref);
    printf("pixel_values max abs diff: %.3g\n", d);
    EXPECT_LE(d, 1e-5);
}

// Resizing to the same size is a copy; a flat image stays flat (the
// normalized fixed-point weights sum to one) under both filters.
TEST(ClipImage, ResizeInvariants) {
    svg_image flat;
    flat.width = 37;
    flat.height = 23;
    flat.rgb.assign((size_t)flat.width * flat.height * 3, 0);
    for (size_t i = 0; i < flat.rgb.size(); i++) flat.rgb[i] = (uint8_t)(i % 3 == 0 ? 200 : i % 3 == 1 ? 17 : 255);
    for (svg_resample f : {SVG_RESAMPLE_BICUBIC, SVG_RESAMPLE_LANCZOS}) {
        svg_image same, up, down;
        ASSERT_TRUE(svg_image_resize(flat, 37, 23, f, &same));
        EXPECT_EQ(same.rgb, flat.rgb);
        ASSERT_TRUE(svg_image_resize(flat, 80, 61, f, &up));
        ASSERT_TRUE(svg_image_resize(flat, 9, 5, f, &down));
        for (const svg_image *r : {&up, &down})
            for (size_t i = 0; i < r->rgb.size(); i++) ASSERT_EQ(r->rgb[i], flat.rgb[i % 3]);
    }
    svg_image bad;
    EXPECT_FALSE(svg_image_resize(flat, 0, 5, SVG_RESAMPLE_BICUBIC, &bad));
    EXPECT_FALSE(svg_image_center_crop(flat, 38, 5, &bad));
}

// Wan I2V's first frame: size rounded down to the VAE factor, values in [-1, 1].
TEST(ClipImage, VaePreprocessing) {
    svg_image img;
    ASSERT_TRUE(svg_image_load((kCase + "image.png").c_str(), &img)) << svg_last_error();
    std::vector<float> v;
    int w = 0, h = 0;
    ASSERT_TRUE(svg_image_vae_preprocess(img, 163, 100, 8, &v, &w, &h)) << svg_last_error();
    EXPECT_EQ(w, 160);
    EXPECT_EQ(h, 96);
    ASSERT_EQ(v.size(), (size_t)3 * 160 * 96);
    EXPECT_GE(*std::min_element(v.begin(), v.end()), -1.0f);
    EXPECT_LE(*std::max_element(v.begin(), v.end()), 1.0f);
    // at its own size the image is only mapped: pixel (0, 0), red
    ASSERT_TRUE(svg_image_vae_preprocess(img, img.width, img.height, 8, &v, &w, &h));
    EXPECT_FLOAT_EQ(v[0], img.rgb[0] / 255.0f * 2.0f - 1.0f);
}

TEST(ClipVision, MatchesReference) {
    model_file file;
    ASSERT_TRUE(convert(kCase + "image_encoder", &file)) << svg_last_error();
    EXPECT_STREQ(svg_gguf_get_string(file.f, "svg.image_encoder.class"), "CLIPVisionModel");
    const double err = svgtest::rel_l2(encode(file, golden("pixel_values")), golden("penultimate_hidden_states"));
    printf("penultimate_hidden_states rel L2 (reference pixel_values): %.3g\n", err);
    EXPECT_LE(err, 1e-4);
}

// image.png through our preprocessing and encoder.
TEST(ClipVision, FromImageMatchesReference) {
    model_file file;
    ASSERT_TRUE(convert(kCase + "image_encoder", &file)) << svg_last_error();
    const double err = svgtest::rel_l2(encode(file, preprocess_golden_image()), golden("penultimate_hidden_states"));
    printf("penultimate_hidden_states rel L2 (from image.png): %.3g\n", err);
    EXPECT_LE(err, 1e-4);
}

// The same two goldens on the GPU.
TEST(ClipVisionCuda, MatchesReference) {
    SVG_NEED_CUDA();
    model_file file;
    ASSERT_TRUE(convert(kCase + "image_encoder", &file)) << svg_last_error();
    const double err = svgtest::rel_l2(encode(file, golden("pixel_values"), true), golden("penultimate_hidden_states"));
    printf("CUDA: penultimate_hidden_states rel L2 (reference pixel_values): %.3g\n", err);
    EXPECT_LE(err, 1e-4);
}

TEST(ClipVisionCuda, FromImageMatchesReference) {
    SVG_NEED_CUDA();
    model_file file;
    ASSERT_TRUE(convert(kCase + "image_encoder", &file)) << svg_last_error();
    const double err =
        svgtest::rel_l2(encode(file, preprocess_golden_image(), true), golden("penultimate_hidden_states"));
    printf("CUDA: penultimate_hidden_states rel L2 (from image.png): %.3g\n", err);
    EXPECT_LE(err, 1e-4);
}

// The model file: transformers' names without "vision_model.", under "clip.".
TEST(ClipVision, ModelFileLayout) {
    model_file file;
    ASSERT_TRUE(convert(kCase + "image_encoder", &file)) << svg_last_error();
    EXPECT_GE(svg_gguf_find_tensor(file.f, "clip.embeddings.patch_embedding.weight"), 0);
    EXPECT_GE(svg_gguf_find_tensor(file.f, "clip.encoder.layers.2.self_attn.out_proj.bias"), 0);
    EXPECT_GE(svg_gguf_find_tensor(file.f, "clip.pre_layrnorm.weight"), 0);
    int64_t v = 0;
    EXPECT_TRUE(svg_gguf_get_int(file.f, "svg.image_encoder.num_hidden_layers", &v));
    EXPECT_EQ(v, 3);
}

// A bare model.safetensors of a width no release has: the head count cannot
// be inferred, and the error says to give a config.
TEST(ClipVision, InferenceNeedsKnownWidth) {
    model_file file;
    EXPECT_FALSE(convert(kCase + "image_encoder/model.safetensors", &file));
    EXPECT_NE(std::string(svg_last_error()).find("--config"), std::string::npos) << svg_last_error();
}
