// Samplers for flow-matching video models: UniPC multistep (diffusers'
// UniPCMultistepScheduler with flow_prediction + flow sigmas, bh2, x0
// prediction — Wan's default) and the flow-matching Euler step. Host-side
// math on f32 latents.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

struct svg_flow_sampler {
    enum kind_t { UNIPC, EULER } kind = UNIPC;
    int steps = 0;
    std::vector<double> sigmas;      // steps + 1 values, the last 0
    std::vector<int64_t> timesteps;  // what the transformer is given at each step

    // Schedule (as the reference's set_timesteps with use_flow_sigmas):
    //   s_i = linspace(1, 1/num_train, steps + 1)[i], i < steps
    //   σ_i = shift·s_i / (1 + (shift − 1)·s_i), σ_0 nudged below 1 by 1e-6
    //   t_i = ⌊σ_i · num_train⌋, σ_steps = 0
    bool init(kind_t kind, int steps, double shift, int num_train = 1000, int solver_order = 2);
    // One step: sample (n values) is replaced by the next sample given the
    // model's flow prediction v at the current step.
    bool step(const float *model_output, float *sample, size_t n);
    int step_index() const { return index_; }

   private:
    int order_ = 2, index_ = 0, lower_order_nums_ = 0, this_order_ = 1;
    std::vector<std::vector<float>> x0_;  // last `order` x0 predictions, newest last
    std::vector<float> last_sample_;
    double lambda(int i) const;
    void predictor(const float *x, int order, float *out, size_t n) const;
    void corrector(const float *x0_t, float *sample, int order, size_t n) const;
};
