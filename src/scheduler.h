// Samplers for flow-matching video models: UniPC multistep (diffusers'
// UniPCMultistepScheduler with flow_prediction + flow sigmas, bh2, x0
// prediction — Wan's default) and the flow-matching Euler step. Host-side
// math on f32 latents.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

// What a denoising loop needs of any sampler: the transformer's timestep at
// each step, and the update of the latents from the model's prediction.
struct svg_scheduler {
    virtual ~svg_scheduler() = default;
    std::vector<double> timesteps;  // what the transformer is given at each step
    // One step: sample (n values) is replaced by the next sample given the
    // model's prediction at the current step.
    virtual bool step(const float *model_output, float *sample, size_t n) = 0;
};

struct svg_flow_sampler : svg_scheduler {
    enum kind_t { UNIPC, EULER } kind = UNIPC;
    int steps = 0;
    std::vector<double> sigmas;      // steps + 1 values, the last 0

    // Schedule (as the reference's set_timesteps with use_flow_sigmas):
    //   s_i = linspace(1, 1/num_train, steps + 1)[i], i < steps
    //   σ_i = shift·s_i / (1 + (shift − 1)·s_i), σ_0 nudged below 1 by 1e-6
    //   t_i = ⌊σ_i · num_train⌋, σ_steps = 0
    bool init(kind_t kind, int steps, double shift, int num_train = 1000, int solver_order = 2);
    // The Euler schedule HunyuanVideoPipeline sets (sigmas given to the
    // reference's FlowMatchEulerDiscreteScheduler):
    //   s_i = linspace(1, 0, steps + 1)[i], σ_i = shift·s_i / (1 + (shift − 1)·s_i)
    //   in f32, t_i = σ_i · num_train unrounded, σ_steps = 0
    bool init_euler_to_zero(int steps, double shift, int num_train = 1000);
    // One step: sample (n values) is replaced by the next sample given the
    // model's flow prediction v at the current step.
    bool step(const float *model_output, float *sample, size_t n) override;
    int step_index() const { return index_; }

   private:
    int order_ = 2, index_ = 0, lower_order_nums_ = 0, this_order_ = 1;
    std::vector<std::vector<float>> x0_;  // last `order` x0 predictions, newest last
    std::vector<float> last_sample_;
    double lambda(int i) const;
    void predictor(const float *x, int order, float *out, size_t n) const;
    void corrector(const float *x0_t, float *sample, int order, size_t n) const;
};

// CogVideoX's samplers on a discrete DDPM schedule (diffusers'
// CogVideoXDDIMScheduler and CogVideoXDPMScheduler, eta 0):
//   β: scaled_linear (linspace(√β0, √β1, N)², f64) or linear (f32)
//   ᾱ_t = Π(1 − β), shifted ᾱ/(s + (1 − s)ᾱ) by snr_shift_scale s, then
//   rescaled to zero terminal SNR when asked (Lin et al. 2023, Alg. 1)
//   timesteps: "trailing" round(arange(N, 0, −N/steps)) − 1, "leading",
//   "linspace"; the previous timestep is t − N // steps (ᾱ = 1 past 0)
//   x0 from the prediction (v: √ᾱ x − √(1−ᾱ) v; epsilon; sample)
//   DDIM: x ← √((1−ᾱ')/(1−ᾱ))·x + (√ᾱ' − √ᾱ·√((1−ᾱ')/(1−ᾱ)))·x0
//   DPM (2nd order multistep, stochastic): with λ = log √(ᾱ/(1−ᾱ)),
//   h = λ' − λ, x ← √((1−ᾱ')/(1−ᾱ))·e^{−h}·x − (e^{−2h} − 1)·√ᾱ'·D
//   + √(1−ᾱ')·√(1 − e^{−2h})·z, D = x0 on the first and last step, else
//   (1 + 1/2r)·x0 − 1/2r·x0_prev with r = h_prev / h; z ~ N(0, 1) seeded.
struct svg_ddpm_config {
    int num_train_timesteps = 1000;
    double beta_start = 0.00085, beta_end = 0.012;
    std::string beta_schedule = "scaled_linear";  // or "linear"
    std::string prediction_type = "v_prediction";  // or "epsilon", "sample"
    std::string timestep_spacing = "trailing";    // or "leading", "linspace"
    bool rescale_betas_zero_snr = true, set_alpha_to_one = true;
    double snr_shift_scale = 1.0;
    int steps_offset = 0;
};

struct svg_ddpm_sampler : svg_scheduler {
    enum kind_t { DDIM, DPM } kind = DDIM;
    int steps = 0;
    std::vector<double> alphas_cumprod;  // num_train_timesteps values
    bool init(kind_t kind, int steps, const svg_ddpm_config &cfg, uint64_t noise_seed = 0);
    bool step(const float *model_output, float *sample, size_t n) override;

   private:
    svg_ddpm_config cfg_;
    int index_ = 0;
    double final_alpha_ = 1.0;
    std::vector<float> x0_prev_;  // DPM: the previous step's x0
    uint64_t noise_state_ = 0;    // DPM's noise stream
};
