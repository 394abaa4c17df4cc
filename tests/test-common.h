// Shared helpers for the GoogleTest suites: random tensors, graph execution
// on the CPU backend with poisoned outputs, error metrics, and the skip of
// GPU tests where there is no CUDA device.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "svg.h"

// First statement of a test that needs the GPU: skips it, saying why, when
// there is no CUDA device or the build has no CUDA backend.
#define SVG_NEED_CUDA() \
    if (svg_cuda_device_count() == 0) GTEST_SKIP() << "no CUDA device (or built without CUDA): " << svgtest::no_cuda_reason()

namespace svgtest {

// Why there is no CUDA device: svg_backend_cuda_new's own error (backend not
// built, no device, driver error) rather than whatever failed last.
inline std::string no_cuda_reason() {
    svg_backend *be = svg_backend_cuda_new(0);
    if (be) {
        svg_backend_free(be);
        return "the device opens, but svg_cuda_device_count() is 0";
    }
    return svg_last_error();
}

// The backend a golden test runs on: the first CUDA device, or the CPU with
// n_threads. NULL (with the error) when the device cannot be opened.
inline svg_backend *new_backend(bool cuda, int n_threads = 2) {
    return cuda ? svg_backend_cuda_new(0) : svg_backend_cpu_new(n_threads);
}

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

// n standard normal values drawn from rng.
inline std::vector<float> normal_values(size_t n, std::mt19937 &rng) {
    std::normal_distribution<float> nd;
    std::vector<float> v(n);
    for (float &x : v) x = nd(rng);
    return v;
}

// Contiguous float tensor → f32 vector.
inline std::vector<float> to_vec(const svg_tensor *t) {
    std::vector<float> v((size_t)svg_nelements(t));
    EXPECT_TRUE(svg_tensor_get_f32(t, v.data(), (int64_t)v.size())) << svg_last_error();
    return v;
}

// A tensor of an open safetensors file as f32 (empty, with a failure, when absent).
inline std::vector<float> read_tensor(const svg_safetensors *st, const char *name, std::vector<int64_t> *shape = nullptr) {
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

// A Wan VAE decode [1, 3, F, H, W] in [-1, 1] as the Wan pipelines return
// their video: (x + 1) / 2 clamped to [0, 1], laid out [1, F, 3, H, W].
inline std::vector<float> wan_pipeline_video(const std::vector<float> &v, int64_t F, int64_t H, int64_t W) {
    std::vector<float> out(v.size());
    if (v.size() != (size_t)(3 * F * H * W)) return {};
    for (int64_t c = 0; c < 3; c++)
        for (int64_t t = 0; t < F; t++)
            for (int64_t p = 0; p < H * W; p++)
                out[(size_t)((t * 3 + c) * H * W + p)] =
                    std::min(1.f, std::max(0.f, v[(size_t)((c * F + t) * H * W + p)] * 0.5f + 0.5f));
    return out;
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
