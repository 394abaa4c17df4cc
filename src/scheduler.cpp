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
        timesteps[(size_t)i] = (double)(int64_t)(sig * num_train);
    }
    index_ = 0;
    lower_order_nums_ = 0;
    this_order_ = 1;
    x0_.clear();
    last_sample_.clear();
    return true;
}

bool svg_flow_sampler::init_euler_to_zero(int n_steps, double shift, int num_train) {
    if (n_steps < 1) return svg_err(false, "sampler: steps must be at least 1, got %d", n_steps);
    if (!(shift > 0)) return svg_err(false, "sampler: flow shift must be positive, got %g", shift);
    kind = EULER;
    steps = n_steps;
    sigmas.assign((size_t)n_steps + 1, 0.0);
    timesteps.assign((size_t)n_steps, 0.0);
    for (int i = 0; i < n_steps; i++) {
        const float s = (float)(1.0 - (double)i / n_steps);
        const float sig = (float)shift * s / (1.0f + ((float)shift - 1.0f) * s);
        sigmas[(size_t)i] = sig;
        timesteps[(size_t)i] = (double)(sig * (float)num_train);
    }
    index_ = 0;
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

// ------------------------------------------------------------ DDIM / DPM

bool svg_ddpm_sampler::init(kind_t k, int n_steps, const svg_ddpm_config &cfg, uint64_t noise_seed) {
    const int N = cfg.num_train_timesteps;
    if (N < 2) return svg_err(false, "sampler: num_train_timesteps must be at least 2, got %d", N);
    if (n_steps < 1 || n_steps > N) return svg_err(false, "sampler: steps must be in [1, %d], got %d", N, n_steps);
    if (cfg.prediction_type != "v_prediction" && cfg.prediction_type != "epsilon" && cfg.prediction_type != "sample")
        return svg_err(false, "sampler: prediction_type '%s' not supported (v_prediction, epsilon, sample)", cfg.prediction_type.c_str());
    if (!(cfg.snr_shift_scale > 0)) return svg_err(false, "sampler: snr_shift_scale must be positive, got %g", cfg.snr_shift_scale);
    kind = k;
    steps = n_steps;
    cfg_ = cfg;
    // β: the reference computes scaled_linear in f64, linear in f32
    std::vector<double> betas((size_t)N);
    for (int i = 0; i < N; i++) {
        const double f = (double)i / (N - 1);
        if (cfg.beta_schedule == "scaled_linear") {
            const double b = std::sqrt(cfg.beta_start) + f * (std::sqrt(cfg.beta_end) - std::sqrt(cfg.beta_start));
            betas[(size_t)i] = b * b;
        } else if (cfg.beta_schedule == "linear") {
            betas[(size_t)i] = (float)(cfg.beta_start + f * (cfg.beta_end - cfg.beta_start));
        } else {
            return svg_err(false, "sampler: beta_schedule '%s' not supported (scaled_linear, linear)", cfg.beta_schedule.c_str());
        }
    }
    alphas_cumprod.assign((size_t)N, 0.0);
    double prod = 1.0;
    for (int i = 0; i < N; i++) {
        prod *= 1.0 - betas[(size_t)i];
        const double a = prod / (cfg.snr_shift_scale + (1.0 - cfg.snr_shift_scale) * prod);
        alphas_cumprod[(size_t)i] = cfg.beta_schedule == "linear" ? (float)a : a;
    }
    if (cfg.rescale_betas_zero_snr) {
        const double s0 = std::sqrt(alphas_cumprod[0]), sT = std::sqrt(alphas_cumprod.back());
        for (double &a : alphas_cumprod) {
            const double s = (std::sqrt(a) - sT) * s0 / (s0 - sT);
            a = s * s;
        }
    }
    final_alpha_ = cfg.set_alpha_to_one ? 1.0 : alphas_cumprod[0];
    timesteps.assign((size_t)n_steps, 0);
    if (cfg.timestep_spacing == "trailing") {
        const double ratio = (double)N / n_steps;
        for (int i = 0; i < n_steps; i++) timesteps[(size_t)i] = std::nearbyint(N - i * ratio) - 1;
    } else if (cfg.timestep_spacing == "leading") {
        const int ratio = N / n_steps;
        for (int i = 0; i < n_steps; i++) timesteps[(size_t)i] = (double)((int64_t)(n_steps - 1 - i) * ratio + cfg.steps_offset);
    } else if (cfg.timestep_spacing == "linspace") {
        for (int i = 0; i < n_steps; i++)
            timesteps[(size_t)i] = std::nearbyint(n_steps == 1 ? 0.0 : (double)(N - 1) * (n_steps - 1 - i) / (n_steps - 1));
    } else {
        return svg_err(false, "sampler: timestep_spacing '%s' not supported (trailing, leading, linspace)", cfg.timestep_spacing.c_str());
    }
    for (double t : timesteps)
        if (t < 0 || t >= N) return svg_err(false, "sampler: timestep %g outside [0, %d)", t, N);
    index_ = 0;
    x0_prev_.clear();
    noise_state_ = noise_seed;
    return true;
}

namespace {

// N(0, 1) noise for the stochastic DPM step: splitmix64 + Box–Muller.
float next_normal(uint64_t *s) {
    auto next = [&] {
        uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        return z ^ (z >> 31);
    };
    const double u1 = ((next() >> 11) + 1.0) * 0x1.0p-53, u2 = (next() >> 11) * 0x1.0p-53;
    return (float)(std::sqrt(-2.0 * std::log(u1)) * std::cos(2 * M_PI * u2));
}

}  // namespace

bool svg_ddpm_sampler::step(const float *out, float *sample, size_t n) {
    if (index_ >= steps) return svg_err(false, "sampler: all %d steps already taken", steps);
    const int64_t t = (int64_t)timesteps[(size_t)index_];
    const int64_t prev = t - cfg_.num_train_timesteps / steps;
    const double a = alphas_cumprod[(size_t)t], a_prev = prev >= 0 ? alphas_cumprod[(size_t)prev] : final_alpha_;
    // x0 in f32 with f32 coefficients, as the reference's 0-d f64 tensors times f32 latents
    std::vector<float> x0(n);
    const float sa = (float)std::sqrt(a), sb = (float)std::sqrt(1.0 - a);
    for (size_t j = 0; j < n; j++) {
        if (cfg_.prediction_type == "v_prediction") x0[j] = sa * sample[j] - sb * out[j];
        else if (cfg_.prediction_type == "epsilon") x0[j] = (sample[j] - sb * out[j]) / sa;
        else x0[j] = out[j];
    }
    if (kind == DDIM) {
        const double at = std::sqrt((1.0 - a_prev) / (1.0 - a)), bt = std::sqrt(a_prev) - std::sqrt(a) * at;
        const float fa = (float)at, fb = (float)bt;
        for (size_t j = 0; j < n; j++) sample[j] = fa * sample[j] + fb * x0[j];
    } else {
        auto lam = [](double ac) { return std::log(std::sqrt(ac / (1.0 - ac))); };
        const double h = lam(a_prev) - lam(a);
        const double m1 = std::sqrt((1.0 - a_prev) / (1.0 - a)) * std::exp(-h), m2 = std::expm1(-2 * h) * std::sqrt(a_prev);
        const double mn = std::sqrt(1.0 - a_prev) * std::sqrt(1.0 - std::exp(-2 * h));
        // second order from the previous x0 except on the first and the last step
        const bool second = !x0_prev_.empty() && prev >= 0;
        double m3 = 0, m4 = 0;
        if (second) {
            const double a_back = alphas_cumprod[(size_t)(int64_t)timesteps[(size_t)index_ - 1]];
            const double r = (lam(a) - lam(a_back)) / h;
            m3 = 1 + 1 / (2 * r);
            m4 = 1 / (2 * r);
        }
        const float f1 = (float)m1, f2 = (float)m2, fn = (float)mn, f3 = (float)m3, f4 = (float)m4;
        // the reference draws the first-order step's noise before it knows it
        // takes the second-order one, then fresh noise: the stream goes on as there
        if (second)
            for (size_t j = 0; j < n; j++) next_normal(&noise_state_);
        for (size_t j = 0; j < n; j++) {
            const float d = second ? f3 * x0[j] - f4 * x0_prev_[j] : x0[j];
            sample[j] = f1 * sample[j] - f2 * d + fn * next_normal(&noise_state_);
        }
        x0_prev_ = std::move(x0);
    }
    index_++;
    return true;
}
