// Model files for the model and pipeline suites: a converted file removed
// when the test ends, and the tiny golden pipeline in one file.
#pragma once

#include <unistd.h>

#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "test-common.h"

#include "convert/convert.h"
#include "models/dit.h"
#include "models/forward.h"
#include "models/model-file.h"
#include "models/vae-common.h"
#include "svg.h"

namespace svgtest {

// A converted model file, removed at the end of the test.
struct model_file {
    std::string path;
    svg_gguf *f = nullptr;
    ~model_file() {
        if (f) svg_gguf_free(f);
        unlink(path.c_str());
    }
};

// The golden transformer `dit` (wan_t2v / wan_i2v) with the golden umT5, VAE
// and the test tokenizer, converted into `out`.
inline bool convert_tiny_pipeline(const std::string &dit, const std::string &out) {
    const std::string data = SVG_TEST_DATA;
    svg_convert_options opt;
    svg_convert_source t, te, v;
    t.path = data + "/goldens/" + dit + "/transformer";
    te.component = "text_encoder";
    te.path = data + "/goldens/umt5_encoder/text_encoder";
    v.component = "vae";
    v.path = data + "/goldens/wan_vae/vae";
    opt.sources = {t, te, v};
    opt.tokenizer_path = data + "/tokenizer_spm/spm_unigram.model";
    opt.output = out;
    return svg_convert(opt);
}

// Sources converted into one model file, opened, on a backend (the CPU
// with 2 threads, or the first CUDA device). The file is unlinked at once
// (mapped, it stays readable). Declare a model's weights after this object,
// so they go before the backend owning them.
struct converted {
    struct backend_free {
        void operator()(svg_backend *b) const { svg_backend_free(b); }
    };
    struct gguf_free {
        void operator()(svg_gguf *f) const { svg_gguf_free(f); }
    };
    std::unique_ptr<svg_backend, backend_free> be;
    std::unique_ptr<svg_gguf, gguf_free> f;

    converted(const std::vector<svg_convert_source> &sources, bool cuda, const std::string &tag, const std::string &scheduler_config = "")
        : be(cuda ? svg_backend_cuda_new(0) : svg_backend_cpu_new(2)) {
        EXPECT_NE(be, nullptr) << svg_last_error();
        svg_convert_options opt;
        opt.sources = sources;
        opt.scheduler_config_path = scheduler_config;
        opt.output = "/tmp/svg-test-" + tag + "-" + std::to_string(getpid()) + ".gguf";
        const bool ok = svg_convert(opt);
        EXPECT_TRUE(ok) << svg_last_error();
        if (ok) f.reset(svg_gguf_open(opt.output.c_str()));
        unlink(opt.output.c_str());
        EXPECT_NE(f, nullptr) << svg_last_error();
    }
    bool ok() const { return be && f; }
};

inline svg_convert_source source(const std::string &path, const std::string &component = "") {
    svg_convert_source s;
    s.path = path;
    s.component = component;
    return s;
}

// svg_forward_component of `component` on a converted file and the inputs
// file `inputs`: the largest rel L2 over `outputs` (named alike in both
// files, shapes checked); INFINITY, with a test failure, on any error.
inline double forward_max_error(const converted &file, const std::string &component, const std::string &inputs,
                                const svg_forward_options &opt, const std::vector<const char *> &outputs, const std::string &label) {
    if (!file.ok()) return INFINITY;
    std::unique_ptr<svg_safetensors, void (*)(svg_safetensors *)> in(svg_safetensors_open(inputs.c_str()), svg_safetensors_free);
    EXPECT_NE(in, nullptr) << svg_last_error();
    if (!in) return INFINITY;
    svg_forward_result res;
    if (!svg_forward_component(file.f.get(), component, file.be.get(), opt, in.get(), &res)) {
        ADD_FAILURE() << label << ": " << svg_last_error();
        return INFINITY;
    }
    double worst = 0;
    for (const char *name : outputs) {
        std::vector<int64_t> shape;
        const std::vector<float> ref = read_tensor(in.get(), name, &shape);
        const svg_forward_tensor *o = res.get(name);
        EXPECT_NE(o, nullptr) << label << " " << name;
        if (!o) return INFINITY;
        EXPECT_EQ(o->shape, shape) << label << " " << name;
        const double e = rel_l2(o->values, ref);
        printf("%s %s: rel L2 %.3g\n", label.c_str(), name, e);
        worst = std::max(worst, e);
    }
    return worst;
}

// Sparse VideoGen inside a transformer's blocks, for any family: build(ctx,
// host, sparse) adds one forward on fixed inputs (sparse NULL: dense). At
// density 1 it is dense attention, with every layer dense it is the dense
// forward, at 0.3 it differs but stays close; a zero density is refused.
using sparse_forward_builder = std::function<svg_tensor *(svg_context *, svg_host_inputs *, const dit_sparse_attention *)>;
inline void check_sparse_blocks(svg_backend *be, int layers, const sparse_forward_builder &build, const char *what) {
    auto run = [&](const dit_sparse_attention *sparse) {
        svg_context *ctx = svg_context_new(true);
        svg_host_inputs host;
        svg_tensor *y = build(ctx, &host, sparse);
        svg_gallocr *ga = svg_gallocr_new(be);
        std::vector<float> out;
        EXPECT_TRUE(y && svg_compute_to_host(be, ga, ctx, y, host, &out)) << svg_last_error();
        svg_gallocr_free(ga);
        svg_context_free(ctx);
        return out;
    };
    const std::vector<float> dense = run(nullptr);
    dit_sparse_attention s;
    s.enabled = true;
    s.rows = 16;
    s.density = 1.0;
    EXPECT_LE(svgtest::rel_l2(run(&s), dense), 1e-5);
    s.density = 0.3;
    s.dense_layers = layers;
    EXPECT_LE(svgtest::rel_l2(run(&s), dense), 1e-6);
    s.dense_layers = 0;
    const double e = svgtest::rel_l2(run(&s), dense);
    printf("%s: sparse attention at density 0.3 vs dense: rel L2 %.3g\n", what, e);
    EXPECT_GT(e, 1e-4) << "density 0.3 computed everything";
    EXPECT_LT(e, 0.5);
    s.density = 0.0;
    svg_context *ctx = svg_context_new(true);
    svg_host_inputs host;
    EXPECT_EQ(build(ctx, &host, &s), nullptr);
    EXPECT_NE(std::string(svg_last_error()).find("density"), std::string::npos) << svg_last_error();
    svg_context_free(ctx);
}

// A [B, C, T, H, W] tensor of a safetensors file, as f32 (empty on failure, with a test failure).
inline vae_tensor read_video(const std::string &path, const char *name) {
    vae_tensor t;
    svg_safetensors *st = svg_safetensors_open(path.c_str());
    EXPECT_NE(st, nullptr) << svg_last_error();
    if (!st) return t;
    const int64_t i = svg_safetensors_find(st, name);
    EXPECT_GE(i, 0) << name << " missing from " << path;
    if (i >= 0) {
        t.shape.resize((size_t)svg_safetensors_n_dims(st, i));
        svg_safetensors_shape(st, i, t.shape.data());
        t.data.resize((size_t)svg_safetensors_nelements(st, i));
        EXPECT_TRUE(svg_safetensors_read_f32(st, i, t.data.data(), (int64_t)t.data.size())) << svg_last_error();
    }
    svg_safetensors_free(st);
    return t;
}

}  // namespace svgtest
