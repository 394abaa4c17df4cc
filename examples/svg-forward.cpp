// svg-forward: run one component of a model file on tensors from a
// safetensors file and write its output — the tool the golden tests and
// layer-by-layer debugging use.
//
//   svg-forward MODEL.gguf --component transformer --inputs IN.safetensors
//               --out OUT.safetensors [--backend cpu|cuda] [--dtype f32|bf16|f16] [--threads N]
//
// Inputs are read by the names diffusers' forward takes (transformer:
// hidden_states, timestep, encoder_hidden_states, encoder_hidden_states_image);
// the output is written as "out" in f32.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "models/wan.h"
#include "svg.h"

namespace {

int fail(const char *what) {
    fprintf(stderr, "svg-forward: %s\n", what);
    return 1;
}

// Input tensor from the safetensors file, as f32 of the same shape; NULL
// (no error) when absent and optional.
svg_tensor *read_input(svg_context *ctx, const svg_safetensors *st, const char *name, bool optional,
                       std::vector<std::pair<svg_tensor *, std::vector<float>>> *values) {
    const int64_t i = svg_safetensors_find(st, name);
    if (i < 0) {
        if (!optional) svg_set_error("input '%s' not found in the inputs file", name);
        return nullptr;
    }
    int64_t ne[SVG_MAX_DIMS];
    const int nd = svg_safetensors_n_dims(st, i);
    svg_safetensors_shape(st, i, ne);
    std::vector<float> v((size_t)svg_safetensors_nelements(st, i));
    if (!svg_safetensors_read_f32(st, i, v.data(), (int64_t)v.size())) return nullptr;
    svg_tensor *t = svg_set_name(svg_new_tensor(ctx, SVG_TYPE_F32, nd, ne), name);
    if (!t) return nullptr;
    svg_set_input(t);
    values->emplace_back(t, std::move(v));
    return t;
}

}  // namespace

int main(int argc, char **argv) {
    std::string model, component = "transformer", inputs, out, backend = "cpu", dtype = "f32";
    int threads = 0;
    for (int i = 1; i < argc; i++) {
        auto next = [&](const char *opt) -> const char * {
            if (i + 1 >= argc) {
                fprintf(stderr, "svg-forward: %s needs a value\n", opt);
                exit(2);
            }
            return argv[++i];
        };
        if (!strcmp(argv[i], "--component")) component = next("--component");
        else if (!strcmp(argv[i], "--inputs")) inputs = next("--inputs");
        else if (!strcmp(argv[i], "--out")) out = next("--out");
        else if (!strcmp(argv[i], "--backend")) backend = next("--backend");
        else if (!strcmp(argv[i], "--dtype")) dtype = next("--dtype");
        else if (!strcmp(argv[i], "--threads")) threads = atoi(next("--threads"));
        else if (argv[i][0] == '-') {
            fprintf(stderr, "svg-forward: unknown option %s\nusage: %s MODEL.gguf --component transformer --inputs IN.safetensors --out OUT.safetensors [--backend cpu|cuda] [--dtype f32|bf16|f16] [--threads N]\n", argv[i], argv[0]);
            return 2;
        } else if (model.empty()) model = argv[i];
        else return fail("more than one model file given");
    }
    if (model.empty() || inputs.empty() || out.empty()) return fail("usage: svg-forward MODEL.gguf --component transformer --inputs IN.safetensors --out OUT.safetensors");
    enum svg_type act;
    if (!svg_type_from_name(dtype.c_str(), &act) || (act != SVG_TYPE_F32 && act != SVG_TYPE_BF16 && act != SVG_TYPE_F16))
        return fail(("--dtype must be f32, bf16 or f16, not " + dtype).c_str());
    if (backend == "cpu" && act != SVG_TYPE_F32) return fail("the CPU backend computes in f32 (use --dtype f32)");

    std::unique_ptr<svg_gguf, decltype(&svg_gguf_free)> f(svg_gguf_open(model.c_str()), svg_gguf_free);
    if (!f) return fail(svg_last_error());
    std::unique_ptr<svg_safetensors, decltype(&svg_safetensors_free)> st(svg_safetensors_open(inputs.c_str()), svg_safetensors_free);
    if (!st) return fail(svg_last_error());
    svg_backend *be = backend == "cuda" ? svg_backend_cuda_new(0) : backend == "cpu" ? svg_backend_cpu_new(threads) : nullptr;
    if (!be) return fail(backend == "cpu" || backend == "cuda" ? svg_last_error() : ("unknown backend " + backend).c_str());
    std::unique_ptr<svg_backend, decltype(&svg_backend_free)> be_guard(be, svg_backend_free);

    const char *arch = svg_gguf_get_string(f.get(), "general.architecture");
    if (!arch || strcmp(arch, "wan") != 0 || component != "transformer")
        return fail(("no forward for component '" + component + "' of architecture '" + (arch ? arch : "?") + "'").c_str());

    wan_transformer m;
    if (!wan_transformer_load(f.get(), be, &m)) return fail(svg_last_error());

    svg_context *ctx = svg_context_new(true);
    std::vector<std::pair<svg_tensor *, std::vector<float>>> values;
    svg_tensor *x = read_input(ctx, st.get(), "hidden_states", false, &values);
    svg_tensor *t = read_input(ctx, st.get(), "timestep", false, &values);
    svg_tensor *text = read_input(ctx, st.get(), "encoder_hidden_states", false, &values);
    svg_tensor *image = read_input(ctx, st.get(), "encoder_hidden_states_image", true, &values);
    if (!x || !t || !text) {
        svg_context_free(ctx);
        return fail(svg_last_error());
    }
    svg_host_inputs host;
    svg_tensor *y = wan_transformer_forward(ctx, m, x, t, text, image, act, &host);
    if (y && y->type != SVG_TYPE_F32) y = svg_cast(ctx, y, SVG_TYPE_F32);
    if (y && !svg_is_contiguous(y)) y = svg_cont(ctx, y);
    svg_set_name(y, "out");
    svg_set_output(y);
    svg_graph *g = svg_graph_new(ctx);
    svg_gallocr *ga = svg_gallocr_new(be);
    bool ok = y && svg_graph_build(g, y) && svg_gallocr_alloc_graph(ga, g) && host.upload();
    for (size_t i = 0; ok && i < values.size(); i++)
        ok = svg_tensor_set_f32(values[i].first, values[i].second.data(), (int64_t)values[i].second.size());
    ok = ok && svg_backend_graph_compute(be, g);
    const svg_tensor *outs[1] = {y};
    ok = ok && svg_safetensors_write(out.c_str(), outs, 1);
    const std::string err = ok ? "" : svg_last_error();
    svg_gallocr_free(ga);
    svg_graph_free(g);
    svg_context_free(ctx);
    if (!ok) return fail(err.c_str());
    return 0;
}
