// Samplers against the reference: the UniPC schedule (timesteps) and the Wan
// T2V denoising loop (converted transformer, CFG with separate cond/uncond
// forwards) matching the recorded latents after every step.
#include <unistd.h>

#include <string>

#include "convert/convert.h"
#include "models/wan-pipeline.h"
#include "src/scheduler.h"
#include "test-common.h"

namespace {

const std::string kData = SVG_TEST_DATA;

std::vector<float> read_f32(const svg_safetensors *st, const char *name, std::vector<int64_t> *shape = nullptr) {
    const int64_t i = svg_safetensors_find(st, name);
    EXPECT_GE(i, 0) << name;
    if (i < 0) return {};
    std::vector<float> v((size_t)svg_safetensors_nelements(st, i));
    EXPECT_TRUE(svg_safetensors_read_f32(st, i, v.data(), (int64_t)v.size())) << svg_last_error();
    if (shape) {
        int64_t ne[SVG_MAX_DIMS];
        svg_safetensors_shape(st, i, ne);
        shape->assign(ne, ne + svg_safetensors_n_dims(st, i));
    }
    return v;
}

TEST(FlowSampler, UniPCScheduleMatchesReference) {
    svg_safetensors *st = svg_safetensors_open((kData + "/goldens/wan_t2v/pipeline.safetensors").c_str());
    ASSERT_NE(st, nullptr) << svg_last_error();
    const std::vector<float> ref = read_f32(st, "timesteps");
    svg_flow_sampler s;
    ASSERT_TRUE(s.init(svg_flow_sampler::UNIPC, (int)ref.size(), 3.0));
    ASSERT_EQ(s.timesteps.size(), ref.size());
    for (size_t i = 0; i < ref.size(); i++) EXPECT_EQ(s.timesteps[i], (int64_t)ref[i]) << "step " << i;
    EXPECT_EQ(s.sigmas.back(), 0.0);
    svg_safetensors_free(st);
}

TEST(FlowSampler, RejectsBadSettings) {
    svg_flow_sampler s;
    EXPECT_FALSE(s.init(svg_flow_sampler::UNIPC, 0, 3.0));
    EXPECT_FALSE(s.init(svg_flow_sampler::UNIPC, 4, -1.0));
    ASSERT_TRUE(s.init(svg_flow_sampler::EULER, 1, 3.0));
    float v = 1, x = 0;
    EXPECT_TRUE(s.step(&v, &x, 1));
    EXPECT_FALSE(s.step(&v, &x, 1));  // past the last step
    EXPECT_NE(std::string(svg_last_error()), "");
}

// Euler on a known velocity: x_final = x0 + Σ (σ_{i+1} − σ_i) v = x0 − σ_0 v
TEST(FlowSampler, EulerIntegratesConstantVelocity) {
    svg_flow_sampler s;
    ASSERT_TRUE(s.init(svg_flow_sampler::EULER, 7, 5.0));
    std::mt19937 rng(3);
    std::uniform_real_distribution<float> d(-1, 1);
    std::vector<float> x(33), v(33), x0(33);
    for (size_t j = 0; j < x.size(); j++) x[j] = x0[j] = d(rng), v[j] = d(rng);
    for (int i = 0; i < 7; i++) ASSERT_TRUE(s.step(v.data(), x.data(), x.size()));
    for (size_t j = 0; j < x.size(); j++) EXPECT_NEAR(x[j], x0[j] - s.sigmas[0] * v[j], 1e-5);
}

// The whole T2V loop: 4 UniPC steps, guidance 5 with two forwards per step.
TEST(WanPipeline, T2VLatentsMatchReferenceEveryStep) {
    svg_convert_options opt;
    svg_convert_source src;
    src.path = kData + "/goldens/wan_t2v/transformer";
    opt.sources.push_back(src);
    opt.output = "/tmp/svg-test-pipeline-" + std::to_string(getpid()) + ".gguf";
    ASSERT_TRUE(svg_convert(opt)) << svg_last_error();
    svg_gguf *f = svg_gguf_open(opt.output.c_str());
    ASSERT_NE(f, nullptr) << svg_last_error();
    svg_backend *be = svg_backend_cpu_new(2);
    wan_transformer m;
    ASSERT_TRUE(wan_transformer_load(f, be, &m)) << svg_last_error();
    svg_safetensors *st = svg_safetensors_open((kData + "/goldens/wan_t2v/pipeline.safetensors").c_str());
    ASSERT_NE(st, nullptr) << svg_last_error();
    wan_denoise_inputs in;
    in.latents = read_f32(st, "latents_init", &in.latent_shape);
    in.cond = read_f32(st, "prompt_embeds", &in.text_shape);
    in.uncond = read_f32(st, "negative_prompt_embeds");
    // step by step, so every intermediate is compared
    wan_denoise_options o;
    o.steps = 4;
    o.guidance = 5.0f;
    o.shift = 3.0f;
    std::vector<std::vector<float>> after;
    // the loop reports each finished step; the latents are the current ones then
    o.progress = [&](int, int) { after.push_back(in.latents); };
    ASSERT_TRUE(wan_denoise(m, be, in, o)) << svg_last_error();
    ASSERT_EQ(after.size(), 4u);
    for (int i = 0; i < 4; i++) {
        const std::vector<float> ref = read_f32(st, ("latents_step" + std::to_string(i)).c_str());
        const double err = svgtest::rel_l2(after[(size_t)i], ref);
        printf("step %d: rel L2 %.2e\n", i, err);
        EXPECT_LE(err, 1e-3) << "after step " << i;
    }
    svg_safetensors_free(st);
    svg_backend_free(be);
    svg_gguf_free(f);
    unlink(opt.output.c_str());
}

}  // namespace

namespace {

// The I2V loop: condition from the first frame through the VAE encoder,
// CLIP tokens from the recorded image_embeds, 4 steps with CFG.
TEST(WanPipeline, I2VLatentsMatchReferenceEveryStep) {
    svg_convert_options opt;
    svg_convert_source t, v;
    t.path = kData + "/goldens/wan_i2v/transformer";
    v.component = "vae";
    v.path = kData + "/goldens/wan_vae/vae";  // the goldens share one VAE
    opt.sources = {t, v};
    opt.output = "/tmp/svg-test-i2v-" + std::to_string(getpid()) + ".gguf";
    ASSERT_TRUE(svg_convert(opt)) << svg_last_error();
    svg_gguf *f = svg_gguf_open(opt.output.c_str());
    ASSERT_NE(f, nullptr);
    svg_backend *be = svg_backend_cpu_new(2);
    wan_transformer m;
    wan_vae vae;
    ASSERT_TRUE(wan_transformer_load(f, be, &m)) << svg_last_error();
    ASSERT_TRUE(wan_vae_load(f, be, &vae)) << svg_last_error();
    svg_safetensors *st = svg_safetensors_open((kData + "/goldens/wan_i2v/pipeline.safetensors").c_str());
    ASSERT_NE(st, nullptr);
    wan_denoise_inputs in;
    in.latents = read_f32(st, "latents_init", &in.latent_shape);
    in.cond = read_f32(st, "prompt_embeds", &in.text_shape);
    in.uncond = read_f32(st, "negative_prompt_embeds");
    in.image = read_f32(st, "image_embeds", &in.image_shape);
    std::vector<int64_t> ishape;
    std::vector<float> image = read_f32(st, "image", &ishape);  // [1, 3, H, W] in [0, 1]
    for (float &x : image) x = 2 * x - 1;
    const int H = (int)ishape[2], W = (int)ishape[3], frames = (int)(in.latent_shape[2] - 1) * 4 + 1;
    ASSERT_TRUE(wan_i2v_condition(vae, be, image, H, W, frames, &in.condition, &in.condition_shape)) << svg_last_error();
    wan_denoise_options o;
    o.steps = 4;
    o.guidance = 5.0f;
    std::vector<std::vector<float>> after;
    o.progress = [&](int, int) { after.push_back(in.latents); };
    ASSERT_TRUE(wan_denoise(m, be, in, o)) << svg_last_error();
    ASSERT_EQ(after.size(), 4u);
    for (int i = 0; i < 4; i++) {
        const double err = svgtest::rel_l2(after[(size_t)i], read_f32(st, ("latents_step" + std::to_string(i)).c_str()));
        printf("i2v step %d: rel L2 %.2e\n", i, err);
        EXPECT_LE(err, 1e-3) << "after step " << i;
    }
    svg_safetensors_free(st);
    svg_backend_free(be);
    svg_gguf_free(f);
    unlink(opt.output.c_str());
}

}  // namespace
