// Shared helpers for the GoogleTest suites: random tensors, graph execution
// on the CPU backend with poisoned outputs, error metrics.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "svg.h"

namespace svgtest {

// Fill a contiguous float-type tensor with uniform random values in [lo, hi).
inline std::vector<float> fill_random(svg_tensor *t, std::mt19937 &rng, float lo = -1.f,
                                      float hi = 1.f) {
    std::uniform_real_distribution<float> dist(lo, hi);
    std::vector<float> v((size_t)svg_nelements(t));
    for (float &x : v) x = dist(rng);
    EXPECT_TRUE(svg_tensor_set_f32(t, v.data(), (int64_t)v.size())) << svg_last_error();
    // read back so callers see the values after rounding to the tensor type
    if (!svg_type_traits_of(t->type)->is_quantized) svg_tensor_get_f32(t, v.data(), (int64_t)v.size());
    return v;
}

// Contiguous float tensor → f32 vector.
inline std::vector<float> to_vec(const svg_tensor *t) {
    std::vector<float> v((size_t)svg_nelements(t));
    EXPECT_TRUE(svg_tensor_get_f32(t, v.data(), (int64_t)v.size())) << svg_last_error();
    return v;
}

// Build the graph of `out`, poison every computed node (NaN bytes), compute
// on a CPU backend with n_threads. Returns false with the error on failure.
inline bool compute(svg_context *ctx, svg_tensor *out, int n_threads = 2) {
    if (!out) {
        ADD_FAILURE() << "op construction failed: " << svg_last_error();
        return false;
    }
    svg_graph *g = svg_graph_new(ctx);
    bool ok = svg_graph_build(g, out);
    for (int i = 0; ok && i < svg_graph_n_nodes(g); i++) {
        svg_tensor *n = svg_graph_node(g, i);
        if (n->op != SVG_OP_VIEW && n->data) memset(n->data, 0xff, svg_nbytes(n));
    }
    svg_backend *be = svg_backend_cpu_new(n_threads);
    if (ok) ok = svg_backend_graph_compute(be, g);
    if (!ok) ADD_FAILURE() << "compute failed: " << svg_last_error();
    svg_backend_free(be);
    svg_graph_free(g);
    return ok;
}

// ‖a − ref‖ / ‖ref‖ (NaN anywhere → infinity)
inline double rel_l2(const std::vector<float> &a, const std::vector<float> &ref) {
    if (a.size() != ref.size()) return INFINITY;
    double num = 0, den = 0;
    for (size_t i = 0; i < a.size(); i++) {
        if (!std::isfinite(a[i])) return INFINITY;
        const double d = (double)a[i] - ref[i];
        num += d * d;
        den += (double)ref[i] * ref[i];
    }
    return den > 0 ? std::sqrt(num / den) : std::sqrt(num);
}

inline double max_abs_diff(const std::vector<float> &a, const std::vector<float> &ref) {
    if (a.size() != ref.size()) return INFINITY;
    double m = 0;
    for (size_t i = 0; i < a.size(); i++) {
        if (!std::isfinite(a[i])) return INFINITY;
        m = std::max(m, std::fabs((double)a[i] - ref[i]));
    }
    return m;
}

}  // namespace svgtest
