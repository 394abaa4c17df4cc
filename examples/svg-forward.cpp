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

#include "models/forward.h"
#include "svg.h"

namespace {

int fail(const char *what) {
    fprintf(stderr, "svg-forward: %s\n", what);
    return 1;
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

    svg_forward_result res;
    if (!svg_forward_component(f.get(), component, be, act, st.get(), &res)) return fail(svg_last_error());
    // write "out" through a host tensor
    svg_context *ctx = svg_context_new(false);
    svg_tensor *y = svg_set_name(svg_new_tensor(ctx, SVG_TYPE_F32, (int)res.shape.size(), res.shape.data()), "out");
    const svg_tensor *outs[1] = {y};
    const bool ok = y && svg_tensor_set_f32(y, res.values.data(), (int64_t)res.values.size()) && svg_safetensors_write(out.c_str(), outs, 1);
    svg_context_free(ctx);
    if (!ok) return fail(svg_last_error());
    return 0;
}
