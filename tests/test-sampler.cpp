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

TEST(FlowSampler, UniPCScheduleMatchesReference) {
    svg_safetensors *st = svg_safetensors_open((kData + "/goldens/wan_t2v/pipeline.safetensors").c_str());
    ASSERT_NE(st, nullptr) << svg_last_error();
    const std::vector<float> ref = svgtest::read_tensor(st, "timesteps");
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
// CogVideoX's DDIM and DPM samplers against diffusers' CogVideoXDDIMScheduler
// / CogVideoXDPMScheduler on fixed samples and model outputs, every step, for
// four schedules (tests/data/ddpm_sampler/make_golden.py; the DPM noise is
// svg.cpp's stream patched into the reference).
TEST(DdpmSampler, MatchesDiffusersEveryStep) {
    struct cse {
        const char *name;
        svg_ddpm_sampler::kind_t kind;
        int steps;
        svg_ddpm_config cfg;
    };
    svg_ddpm_config eps_leading;
    eps_leading.prediction_type = "epsilon";
    eps_leading.timestep_spacing = "leading";
    eps_leading.steps_offset = 1;
    eps_leading.beta_schedule = "linear";
    eps_leading.rescale_betas_zero_snr = false;
    eps_leading.set_alpha_to_one = false;
    eps_leading.snr_shift_scale = 3.0;
    svg_ddpm_config sample_linspace;
    sample_linspace.prediction_type = "sample";
    sample_linspace.timestep_spacing = "linspace";
    sample_linspace.rescale_betas_zero_snr = false;
    sample_linspace.snr_shift_scale = 1.5;
    const cse cases[] = {{"ddim_v_trailing", svg_ddpm_sampler::DDIM, 5, svg_ddpm_config{}},
                         {"dpm_v_trailing", svg_ddpm_sampler::DPM, 6, svg_ddpm_config{}},
                         {"ddim_eps_leading", svg_ddpm_sampler::DDIM, 4, eps_leading},
                         {"dpm_sample_linspace", svg_ddpm_sampler::DPM, 3, sample_linspace}};
    svg_safetensors *st = svg_safetensors_open((kData + "/ddpm_sampler/expected.safetensors").c_str());
    ASSERT_NE(st, nullptr) << svg_last_error();
    auto get = [&](const std::string &name) {
        const int64_t i = svg_safetensors_find(st, name.c_str());
        EXPECT_GE(i, 0) << name;
        std::vector<float> v(i >= 0 ? (size_t)svg_safetensors_nelements(st, i) : 0);
        if (i >= 0) {
            EXPECT_TRUE(svg_safetensors_read_f32(st, i, v.data(), (int64_t)v.size()));
        }
        return v;
    };
    for (const cse &c : cases) {
        svg_ddpm_sampler s;
        ASSERT_TRUE(s.init(c.kind, c.steps, c.cfg, 31337)) << c.name << ": " << svg_last_error();
        const std::vector<float> ts = get(std::string(c.name) + ".timesteps");
        ASSERT_EQ(ts.size(), s.timesteps.size()) << c.name;
        for (size_t i = 0; i < ts.size(); i++) EXPECT_EQ((int64_t)ts[i], s.timesteps[i]) << c.name << " timestep " << i;
        std::vector<float> x = get(std::string(c.name) + ".sample");
        for (int i = 0; i < c.steps; i++) {
            const std::vector<float> out = get(std::string(c.name) + ".model_output" + std::to_string(i));
            ASSERT_TRUE(s.step(out.data(), x.data(), x.size())) << svg_last_error();
            const double e = svgtest::rel_l2(x, get(std::string(c.name) + ".step" + std::to_string(i)));
            EXPECT_LE(e, 1e-5) << c.name << " step " << i;
        }
        EXPECT_FALSE(s.step(x.data(), x.data(), x.size())) << "a step past the last";
    }
    svg_safetensors_free(st);
}

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

// One Wan golden pipeline (wan_t2v or wan_i2v) from its recorded initial
// latents: 4 UniPC steps (shift 3), guidance 5 with separate cond / uncond
// forwards; I2V conditions on the first frame through the VAE encoder and on
// the recorded CLIP tokens (image_embeds). On the CPU in f32, or on the first
// CUDA device with transformer activations `act`. Every step's latents are
// compared with latents_stepN (rel L2 ≤ tol); with `video`, the final latents
// are also decoded as the pipeline does (denormalize, VAE in f32 on the same
// backend, (x + 1) / 2 clamped) and compared with the recorded video (≤ tol).
void check_pipeline(const std::string &cse, bool cuda, svg_type act, double tol, bool video = false) {
    const bool i2v = cse == "wan_i2v";
    svg_convert_options opt;
    svg_convert_source t, v;
    t.path = kData + "/goldens/" + cse + "/transformer";
    v.component = "vae";
    v.path = kData + "/goldens/wan_vae/vae";  // the goldens share one VAE
    opt.sources = {t};
    if (i2v || video) opt.sources.push_back(v);
    opt.output = "/tmp/svg-test-pipeline-" + cse + "-" + std::to_string(getpid()) + ".gguf";
    ASSERT_TRUE(svg_convert(opt)) << svg_last_error();
    svg_gguf *f = svg_gguf_open(opt.output.c_str());
    ASSERT_NE(f, nullptr) << svg_last_error();
    svg_backend *be = svgtest::new_backend(cuda);
    ASSERT_NE(be, nullptr) << svg_last_error();
    wan_transformer m;
    wan_vae vae;
    ASSERT_TRUE(wan_transformer_load(f, be, &m)) << svg_last_error();
    if (i2v || video) {
        ASSERT_TRUE(wan_vae_load(f, be, &vae)) << svg_last_error();
    }
    svg_safetensors *st = svg_safetensors_open((kData + "/goldens/" + cse + "/pipeline.safetensors").c_str());
    ASSERT_NE(st, nullptr) << svg_last_error();
    wan_denoise_inputs in;
    in.latents = svgtest::read_tensor(st, "latents_init", &in.latent_shape);
    in.cond = svgtest::read_tensor(st, "prompt_embeds", &in.text_shape);
    in.uncond = svgtest::read_tensor(st, "negative_prompt_embeds");
    if (i2v) {
        in.image = svgtest::read_tensor(st, "image_embeds", &in.image_shape);
        std::vector<int64_t> ishape;
        std::vector<float> image = svgtest::read_tensor(st, "image", &ishape);  // [1, 3, H, W] in [0, 1]
        for (float &x : image) x = 2 * x - 1;
        const int H = (int)ishape[2], W = (int)ishape[3], frames = (int)(in.latent_shape[2] - 1) * 4 + 1;
        ASSERT_TRUE(wan_i2v_condition(vae, be, image, H, W, frames, &in.condition, &in.condition_shape))
            << svg_last_error();
    }
    // step by step, so every intermediate is compared
    wan_denoise_options o;
    o.steps = 4;
    o.guidance = 5.0f;
    o.shift = 3.0f;
    o.act = act;
    std::vector<std::vector<float>> after;
    // the loop reports each finished step; the latents are the current ones then
    o.progress = [&](int, int) { after.push_back(in.latents); };
    ASSERT_TRUE(wan_denoise(m, be, in, o)) << svg_last_error();
    ASSERT_EQ(after.size(), 4u);
    const std::string label = std::string(cuda ? "CUDA " : "") + svg_type_name(act) + " " + cse;
    for (int i = 0; i < 4; i++) {
        const double err = svgtest::rel_l2(after[(size_t)i], svgtest::read_tensor(st, ("latents_step" + std::to_string(i)).c_str()));
        printf("%s step %d: rel L2 %.2e\n", label.c_str(), i, err);
        EXPECT_LE(err, tol) << "after step " << i;
    }
    if (video) {
        vae_tensor z{in.latent_shape, in.latents}, out;
        std::vector<int64_t> rshape;
        const std::vector<float> ref = svgtest::read_tensor(st, "video", &rshape);  // [1, F, 3, H, W]
        ASSERT_TRUE(wan_vae_denormalize(vae, &z));
        ASSERT_TRUE(wan_vae_decode(vae, be, z, &out)) << svg_last_error();
        ASSERT_EQ(out.shape.size(), 5u);
        const int64_t F = out.shape[2], H = out.shape[3], W = out.shape[4];
        ASSERT_EQ(rshape, (std::vector<int64_t>{1, F, 3, H, W}));
        const double err = svgtest::rel_l2(svgtest::wan_pipeline_video(out.data, F, H, W), ref);
        printf("%s video: rel L2 %.2e\n", label.c_str(), err);
        EXPECT_LE(err, tol) << "final video";
    }
    svg_safetensors_free(st);
    svg_backend_free(be);
    svg_gguf_free(f);
    unlink(opt.output.c_str());
}

// The whole T2V loop: 4 UniPC steps, guidance 5 with two forwards per step.
TEST(WanPipeline, T2VLatentsMatchReferenceEveryStep) { check_pipeline("wan_t2v", false, SVG_TYPE_F32, 1e-3); }

// The I2V loop: condition from the first frame through the VAE encoder,
// CLIP tokens from the recorded image_embeds, 4 steps with CFG.
TEST(WanPipeline, I2VLatentsMatchReferenceEveryStep) { check_pipeline("wan_i2v", false, SVG_TYPE_F32, 1e-3); }

// The same loops on the GPU, through to the final video. In f32 the whole
// pipeline's fp32 tolerance (1e-3) holds; with bf16 transformer activations
// (svg-run's default on CUDA) the goldens' 2e-2 for a bf16 GPU path.
//
// Errors compound over steps: each step's velocity is v_u + 5 (v_c − v_u),
// so a per-forward error is amplified by the guidance, and UniPC carries it
// into every later step. Measured on the CPU by adding Gaussian noise of
// rel L2 ε to every transformer output of this loop: the latents after steps
// 0..3 are off by ≈ 0.72, 1.6, 2.9, 3.6 ε (T2V; I2V 0.71, 1.05, 2.05, 3.4 ε)
// with independent noise on the cond and uncond forwards, ≈ 0.11 … 0.58 ε
// with the same noise on both; the video only ≈ 0.14 ε / 0.02 ε (this VAE
// shrinks the error). bf16 rounding lies between the two, so a bf16 forward
// within 2e-2 (WanTransformerCuda.*Bf16*, test-wan) does not guarantee the
// last steps within 2e-2 here: above a single-forward error of about 5.5e-3
// (uncorrelated) step 3 can exceed it. Compare the printed per-step errors
// with test-wan's bf16 forward error: a rise in proportion to it is
// compounding (a tolerance question for the goldens' README), a jump at
// one step, or any f32 excess, is a bug.
TEST(WanPipelineCuda, T2VF32LatentsAndVideoMatchReference) {
    SVG_NEED_CUDA();
    check_pipeline("wan_t2v", true, SVG_TYPE_F32, 1e-3, true);
}
TEST(WanPipelineCuda, I2VF32LatentsAndVideoMatchReference) {
    SVG_NEED_CUDA();
    check_pipeline("wan_i2v", true, SVG_TYPE_F32, 1e-3, true);
}
TEST(WanPipelineCuda, T2VBf16LatentsAndVideoMatchReference) {
    SVG_NEED_CUDA();
    check_pipeline("wan_t2v", true, SVG_TYPE_BF16, 2e-2, true);
}
TEST(WanPipelineCuda, I2VBf16LatentsAndVideoMatchReference) {
    SVG_NEED_CUDA();
    check_pipeline("wan_i2v", true, SVG_TYPE_BF16, 2e-2, true);
}

}  // namespace
