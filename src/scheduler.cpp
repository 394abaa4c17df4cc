// UniPC multistep (B(h) = e^h − 1, "bh2") in data (x0) prediction for flow
// models, where α = 1 − σ and λ = log α − log σ; and the Euler step
// x ← x + (σ_{i+1} − σ_i)·v. Follows diffusers' UniPCMultistepScheduler
// step(): corrector on the previous predictor's result, then predictor.
#include "scheduler.h"

#include <cmath>

#include "svg-impl.h"

bool svg_flow_sampler::init(kind_t k, int n_steps, double shift, int num_train, int solver_order) {
    if (n_steps < 1) return svg_err(false, "sampler: steps must be at least 1, got %d", n_steps);
    if (!(shift > 0)) return svg_err(false, "sampler: flow shift must be positive, got %g", shift);
    if (solver_order < 1 || solver_order > 2) return svg_err(false, "sampler: UniPC order %d not supported (1 or 2)", solver_order);
    kind = k;
    steps = n_steps;
    order_ = solver_order;
    sigmas.assign((size_t)n_steps + 1, 0.0);
    timesteps.assign((size_t)n_steps, 0);
    for (int i = 0; i < n_steps; i++) {
        const double s = 1.0 + (1.0 / num_train - 1.0) * i / n_steps;
        double sig = shift * s / (1.0 + (shift - 1.0) * s);
        if (i == 0 && std::fabs(sig - 1.0) < 1e-6) sig -= 1e-6;  // keeps log σ/α finite
        sigmas[(size_t)i] = (float)sig;                              // the reference keeps f32 sigmas
        timesteps[(size_t)i] = (int64_t)(sig * num_train);
    }
    index_ = 0;
    lower_order_nums_ = 0;
    this_order_ = 1;
    x0_.clear();
    last_sample_.clear();
    return true;
}

double svg_flow_sampler::lambda(int i) const {
    const double s = sigmas[(size_t)i];
    return std::log(1.0 - s) - std::log(s);  // +inf at σ = 0
}

// UniP: x_t = σ_t/σ_s0·x − α_t·(e^{−h} − 1)·m0 − α_t·B(h)·Σ ρ_k D_k
void svg_flow_sampler::predictor(const float *x, int order, float *out, size_t n) const {
    const int i = index_;
    const double sigma_t = sigmas[(size_t)i + 1], sigma_s0 = sigmas[(size_t)i], alpha_t = 1.0 - sigma_t;
    const double h = lambda(i + 1) - lambda(i), hh = -h;
    const double h_phi_1 = std::expm1(hh), B_h = std::expm1(hh);
    const std::vector<float> &m0 = x0_.back();
    const double ratio = sigma_t / sigma_s0;
    if (order == 1) {
        for (size_t j = 0; j < n; j++) out[j] = (float)(ratio * x[j] - alpha_t * h_phi_1 * m0[j]);
        return;
    }
    // order 2: ρ = 1/2, D1 = (m1 − m0)/r1
    const double r1 = (lambda(i - 1) - lambda(i)) / h;
    const std::vector<float> &m1 = x0_[x0_.size() - 2];
    for (size_t j = 0; j < n; j++) {
        const double d1 = (m1[j] - m0[j]) / r1;
        out[j] = (float)(ratio * x[j] - alpha_t * h_phi_1 * m0[j] - alpha_t * B_h * 0.5 * d1);
    }
}

// UniC: corrects the predictor's result with the new model output.
void svg_flow_sampler::corrector(const float *x0_t, float *sample, int order, size_t n) const {
    const int i = index_;
    const double sigma_t = sigmas[(size_t)i], sigma_s0 = sigmas[(size_t)i - 1], alpha_t = 1.0 - sigma_t;
    const double h = lambda(i) - lambda(i - 1), hh = -h;
    const double h_phi_1 = std::expm1(hh), B_h = std::expm1(hh);
    const std::vector<float> &m0 = x0_.back();
    const std::vector<float> &x = last_sample_;
    // b_k = h·φ_k(h)·k!/B(h) for k = 1..order
    double h_phi_k = h_phi_1 / hh - 1.0, fact = 1.0, b[2] = {0, 0};
    for (int k = 1; k <= order; k++) {
        b[k - 1] = h_phi_k * fact / B_h;
        fact *= k + 1;
        h_phi_k = h_phi_k / hh - 1.0 / fact;
    }
    double rho_d1 = 0, rho_t = 0.5, r1 = 1;
    if (order == 2) {  // solve [[1, 1], [r1, 1]] ρ = b
        r1 = (lambda(i - 2) - lambda(i - 1)) / h;
        rho_d1 = (b[0] - b[1]) / (1.0 - r1);
        rho_t = b[0] - rho_d1;
    }
    const std::vector<float> *m1 = order == 2 ? &x0_[x0_.size() - 2] : nullptr;
    for (size_t j = 0; j < n; j++) {
        const double base = sigma_t / sigma_s0 * x[j] - alpha_t * h_phi_1 * m0[j];
        const double corr = m1 ? rho_d1 * ((*m1)[j] - m0[j]) / r1 : 0.0;
        sample[j] = (float)(base - alpha_t * B_h * (corr + rho_t * (x0_t[j] - m0[j])));
    }
}

bool svg_flow_sampler::step(const float *v, float *sample, size_t n) {
    if (index_ >= steps) return svg_err(false, "sampler: all %d steps already taken", steps);
    const double sigma = sigmas[(size_t)index_];
    if (kind == EULER) {
        const double dt = sigmas[(size_t)index_ + 1] - sigma;
        for (size_t j = 0; j < n; j++) sample[j] = (float)(sample[j] + dt * v[j]);
        index_++;
        return true;
    }
    if (!x0_.empty() && x0_.back().size() != n) return svg_err(false, "sampler: latent size changed between steps");
    std::vector<float> x0(n);
    for (size_t j = 0; j < n; j++) x0[j] = (float)(sample[j] - sigma * v[j]);  // flow → data prediction
    if (index_ > 0 && !last_sample_.empty()) corrector(x0.data(), sample, this_order_, n);
    x0_.push_back(std::move(x0));
    if ((int)x0_.size() > order_) x0_.erase(x0_.begin());
    const int remaining = steps - index_;  // lower order on the final steps
    this_order_ = std::min(std::min(order_, remaining), lower_order_nums_ + 1);
    last_sample_.assign(sample, sample + n);
    predictor(last_sample_.data(), this_order_, sample, n);
    if (lower_order_nums_ < order_) lower_order_nums_++;
    index_++;
    return true;
}
