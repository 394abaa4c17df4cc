// svg-forward: run one component of a model file on tensors from a
// safetensors file and write its outputs — the tool the golden tests and
// layer-by-layer debugging use.
//
//   svg-forward MODEL.gguf --component C --inputs IN.safetensors --out OUT.safetensors
//               [--backend cpu|cuda] [--dtype f32|bf16|f16] [--threads N]
//               [pipeline: --steps N --cfg G --shift S --sampler NAME --width W --height H --frames F]
//   svg-forward MODEL.gguf --component tokenizer --text "..."     (ids as JSON on stdout)
//
// Components and tensor names (as the reference forwards and the goldens):
//   transformer    hidden_states, timestep, encoder_hidden_states [, encoder_hidden_states_image] → out
//   text_encoder   input_ids [, attention_mask] → last_hidden_state
//   image_encoder  pixel_values → penultimate_hidden_states
//   vae_decode     z → video;  vae_encode: video → mean, logvar;  vae: either, by the input present
//   pipeline       prompt_embeds, negative_prompt_embeds, latents_init [, image, image_embeds (I2V)]
//                  → timesteps, latents_step0 … latents_step{N-1}, video ([B, F, 3, H, W] in [0, 1])
// Every output is written in f32.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "models/forward.h"
#include "svg.h"

namespace {

const char *k_usage =
    "usage: svg-forward MODEL.gguf --component C --inputs IN.safetensors --out OUT.safetensors [options]\n"
    "       svg-forward MODEL.gguf --component tokenizer|tokenizer_2 --text TEXT\n"
    "  --component C   transformer (default), text_encoder, text_encoder_2, image_encoder, vae_decode,\n"
    "                  vae_encode, vae (decode or encode by the input), pipeline, tokenizer, tokenizer_2\n"
    "  --backend cpu|cuda (default cpu)   --dtype f32|bf16|f16 (transformer activations; cpu: f32)\n"
    "  --threads N     CPU threads\n"
    "  pipeline: --steps N (default 50) --cfg G (5.0) --shift S (the model's, else 3.0)\n"
    "            --sampler unipc|euler (Wan), ddim|dpm (CogVideoX), euler (HunyuanVideo); default the model's\n"
    "            HunyuanVideo: --cfg is the embedded guidance (diffusers' guidance_scale)\n"
    "            --width W --height H --frames F (Wan: checked against latents_init)\n"
    "  tokenizer: --text TEXT prints {\"ids\": [...]} (no eos, no prompt cleaning)\n";

int fail(const std::string &what) {
    fprintf(stderr, "svg-forward: %s\n", what.c_str());
    return 1;
}

int usage_error(const std::string &what) {
    fprintf(stderr, "svg-forward: %s\n%s", what.c_str(), k_usage);
    return 2;
}

bool number(const char *s, double lo, double hi, double *v) {
    char *end = nullptr;
    *v = strtod(s, &end);
    return *s && !*end && *v >= lo && *v <= hi;
}

}  // namespace

int main(int argc, char **argv) {
    std::string model, component = "transformer", inputs, out, backend = "cpu", dtype = "f32", text;
    bool has_text = false;
    int threads = 0;
    svg_forward_options fo;
    for (int i = 1; i < argc; i++) {
        const std::string a = argv[i];
        auto next = [&]() -> const char * {
            if (i + 1 >= argc) {
                usage_error(a + " needs a value");
                exit(2);
            }
            return argv[++i];
        };
        auto num = [&](double lo, double hi) {
            const char *s = next();
            double v = 0;
            if (!number(s, lo, hi, &v)) {
                usage_error("bad value '" + std::string(s) + "' for " + a);
                exit(2);
            }
            return v;
        };
        if (a == "-h" || a == "--help") {
            fputs(k_usage, stdout);
            return 0;
        } else if (a == "--component") component = next();
        else if (a == "--inputs") inputs = next();
        else if (a == "--out") out = next();
        else if (a == "--backend") backend = next();
        else if (a == "--dtype") dtype = next();
        else if (a == "--threads") threads = (int)num(1, 4096);
        else if (a == "--text") text = next(), has_text = true;
        else if (a == "--steps") fo.steps = (int)num(1, 1000);
        else if (a == "--cfg") fo.cfg = (float)num(0, 100);
        else if (a == "--shift") fo.shift = (float)num(0.01, 100);
        else if (a == "--sampler") fo.sampler = next();
        else if (a == "--width") fo.width = (int)num(1, 16384);
        else if (a == "--height") fo.height = (int)num(1, 16384);
        else if (a == "--frames") fo.frames = (int)num(1, 4097);
        else if (a.size() > 1 && a[0] == '-') return usage_error("unknown option " + a);
        else if (model.empty()) model = a;
        else return usage_error("more than one model file given");
    }
    if (model.empty()) return usage_error("no model file given");
    if (!svg_forward_is_component(component))
        return usage_error("unknown component '" + component + "' (one of: " + svg_forward_components() + ")");
    const bool tokenizer = component == "tokenizer" || component == "tokenizer_2";
    if (tokenizer) {
        if (!has_text) return usage_error("--component " + component + " needs --text TEXT");
        if (!inputs.empty() || !out.empty()) return usage_error("--component " + component + " takes --text, not --inputs/--out");
    } else {
        if (has_text) return usage_error("--text is for --component tokenizer (component here: " + component + ")");
        if (inputs.empty() || out.empty()) return usage_error("--inputs and --out are required");
    }

    std::unique_ptr<svg_gguf, decltype(&svg_gguf_free)> f(svg_gguf_open(model.c_str()), svg_gguf_free);
    if (!f) return fail(svg_last_error());
    if (tokenizer) {
        std::vector<int32_t> ids;
        if (!svg_forward_tokenize(f.get(), text, &ids, component)) return fail(svg_last_error());
        std::string js = "{\"ids\": [";
        for (size_t i = 0; i < ids.size(); i++) js += (i ? ", " : "") + std::to_string(ids[i]);
        printf("%s]}\n", js.c_str());
        return 0;
    }

    if (!svg_type_from_name(dtype.c_str(), &fo.act) || (fo.act != SVG_TYPE_F32 && fo.act != SVG_TYPE_BF16 && fo.act != SVG_TYPE_F16))
        return fail("--dtype must be f32, bf16 or f16, not " + dtype);
    if (backend == "cpu" && fo.act != SVG_TYPE_F32) return fail("the CPU backend computes in f32 (use --dtype f32)");
    std::unique_ptr<svg_safetensors, decltype(&svg_safetensors_free)> st(svg_safetensors_open(inputs.c_str()), svg_safetensors_free);
    if (!st) return fail(svg_last_error());
    svg_backend *be = backend == "cuda" ? svg_backend_cuda_new(0) : backend == "cpu" ? svg_backend_cpu_new(threads) : nullptr;
    if (!be) return fail(backend == "cpu" || backend == "cuda" ? std::string(svg_last_error()) : "unknown backend " + backend);
    std::unique_ptr<svg_backend, decltype(&svg_backend_free)> be_guard(be, svg_backend_free);

    svg_forward_result res;
    if (!svg_forward_component(f.get(), component, be, fo, st.get(), &res)) return fail(component + ": " + svg_last_error());
    // write every output through host tensors
    svg_context *ctx = svg_context_new(false);
    std::vector<const svg_tensor *> ts;
    bool ok = true;
    for (const svg_forward_tensor &o : res.outputs) {
        svg_tensor *y = svg_new_tensor(ctx, SVG_TYPE_F32, (int)o.shape.size(), o.shape.data());
        ok = ok && y && svg_set_name(y, o.name.c_str()) && svg_tensor_set_f32(y, o.values.data(), (int64_t)o.values.size());
        ts.push_back(y);
    }
    ok = ok && svg_safetensors_write(out.c_str(), ts.data(), (int)ts.size());
    svg_context_free(ctx);
    if (!ok) return fail(svg_last_error());
    return 0;
}
