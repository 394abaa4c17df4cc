// HunyuanVideo's text encoders against the reference: the Llama text tower
// (LlamaModel, every recorded hidden state) and the CLIP text model
// (last_hidden_state, pooled output), converted with the converter from the
// shared goldens (tests/data/goldens/llama_clip_encoders) and from held-out
// cases (tests/data/llama_clip_extra, made by its make_extra.py: a
// LlamaForCausalLM file with left and right padding, a
// CLIPTextModelWithProjection pooling at the first eos). Also: q8_0 and bf16
// weights, the other namings (LLaVA, ComfyUI), config inference, nested
// config keys and svg-forward. The HunyuanTextEncodersCuda suite runs the
// encoders with bf16 weights on the first CUDA device.
#include <unistd.h>

#include <cstdio>
#include <functional>
#include <tuple>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "convert/convert.h"
#include "models/clip-text.h"
#include "models/forward.h"
#include "models/llama.h"
#include "test-common.h"
#include "test-models.h"

namespace {

const std::string kGolden = std::string(SVG_TEST_DATA) + "/goldens/llama_clip_encoders/";
const std::string kExtra = std::string(SVG_TEST_DATA) + "/llama_clip_extra/";

using svgtest::model_file;

// Convert sources (component, path, config) into one file; *log collects the
// converter's lines when given.
bool convert(const std::vector<svg_convert_source> &sources, svg_type type, const std::string &tag, model_file *out,
             std::vector<std::string> *log = nullptr) {
    svg_convert_options opt;
    opt.sources = sources;
    opt.type = type;
    opt.output = out->path = "/tmp/svg-test-htext-" + tag + "-" + std::to_string(getpid()) + ".gguf";
    if (log) opt.log = [log](const std::string &s) { log->push_back(s); };
    if (!svg_convert(opt)) return false;
    out->f = svg_gguf_open(opt.output.c_str());
    return out->f != nullptr;
}

svg_convert_source source(const std::string &component, const std::string &path, const std::string &config = "") {
    svg_convert_source s;
    s.component = component;
    s.path = path;
    s.config_path = config;
    return s;
}

// The recorded tensors of a forward file.
struct recorded {
    std::map<std::string, std::vector<float>> v;
    std::map<std::string, std::vector<int64_t>> shape;
    explicit recorded(const std::string &path) {
        svg_safetensors *st = svg_safetensors_open(path.c_str());
        EXPECT_NE(st, nullptr) << svg_last_error();
        if (!st) return;
        for (int64_t i = 0; i < svg_safetensors_n_tensors(st); i++) {
            const char *name = svg_safetensors_name(st, i);
            v[name] = svgtest::read_tensor(st, name, &shape[name]);
        }
        svg_safetensors_free(st);
    }
    const std::vector<float> &operator[](const std::string &name) const {
        static const std::vector<float> none;
        const auto it = v.find(name);
        EXPECT_NE(it, v.end()) << name;
        return it == v.end() ? none : it->second;
    }
    std::vector<int32_t> ids() const {
        const std::vector<float> &f = (*this)["input_ids"];
        return std::vector<int32_t>(f.begin(), f.end());
    }
    int64_t B() const { return shape.at("input_ids")[0]; }
    int64_t L() const { return shape.at("input_ids")[1]; }
    bool has(const std::string &name) const { return v.count(name) > 0; }
};

// Compute the last tensor and read all of them (the others kept as outputs).
std::vector<std::vector<float>> compute(svg_backend *be, svg_context *ctx, const std::vector<svg_tensor *> &ys,
                                        const svg_host_inputs &host) {
    std::vector<std::vector<float>> out(ys.size());
    for (svg_tensor *y : ys) {
        EXPECT_NE(y, nullptr) << svg_last_error();
        if (!y) return {};
        svg_set_output(y);
    }
    svg_gallocr *ga = svg_gallocr_new(be);
    const bool ok = svg_compute_to_host(be, ga, ctx, ys.back(), host, &out.back());
    EXPECT_TRUE(ok) << svg_last_error();
    for (size_t i = 0; ok && i + 1 < ys.size(); i++) out[i] = svgtest::to_vec(ys[i]);
    svg_gallocr_free(ga);
    return ok ? out : std::vector<std::vector<float>>{};
}

// Every hidden state of the Llama in `file` on the recorded ids and mask
// (hidden_state: the one llama_forward stops at).
std::vector<std::vector<float>> llama_states(const model_file &file, const recorded &in, bool cuda = false,
                                             int64_t hidden_state = -1) {
    svg_backend *be = svgtest::new_backend(cuda);
    EXPECT_NE(be, nullptr) << svg_last_error();
    if (!be) return {};
    std::vector<std::vector<float>> out;
    {
        llama_model m;
        if (llama_load(file.f, be, &m)) {
            svg_context *ctx = svg_context_new(true);
            svg_host_inputs host;
            const int64_t ne[2] = {in.B(), in.L()};
            svg_tensor *ids = host.add_i32(ctx, 2, ne, in.ids(), "input_ids");
            // (the embeddings alone do not read the mask: no input to upload then)
            svg_tensor *mask = in.has("attention_mask") && hidden_state != 0
                                   ? host.add(ctx, 2, ne, in["attention_mask"], "attention_mask")
                                   : nullptr;
            std::vector<svg_tensor *> states;
            svg_tensor *y = llama_forward(ctx, m, ids, mask, hidden_state, &host, &states);
            EXPECT_TRUE(y && y == states.back());
            if (y) out = compute(be, ctx, states, host);
            svg_context_free(ctx);
        } else {
            ADD_FAILURE() << svg_last_error();
        }
    }
    svg_backend_free(be);
    return out;
}

// Relative L2 error of every recorded hidden state; the largest.
double llama_error(const model_file &file, const recorded &ref, bool cuda = false, const char *what = "") {
    const std::vector<std::vector<float>> states = llama_states(file, ref, cuda);
    double worst = 0;
    size_t n = 0;
    for (; ref.has("hidden_states." + std::to_string(n)); n++) {
        const double e = n < states.size() ? svgtest::rel_l2(states[n], ref["hidden_states." + std::to_string(n)]) : INFINITY;
        printf("%s hidden_states.%zu rel L2 %.3g\n", what, n, e);
        worst = std::max(worst, e);
    }
    EXPECT_EQ(states.size(), n);
    return worst;
}

// last_hidden_state and the pooled output of the CLIP text model `component`.
std::vector<std::vector<float>> clip_outputs(const model_file &file, const char *component, const recorded &in, bool cuda = false) {
    svg_backend *be = svgtest::new_backend(cuda);
    EXPECT_NE(be, nullptr) << svg_last_error();
    if (!be) return {};
    std::vector<std::vector<float>> out;
    {
        clip_text m;
        if (clip_text_load(file.f, component, be, &m)) {
            svg_context *ctx = svg_context_new(true);
            svg_host_inputs host;
            const int64_t ne[2] = {in.B(), in.L()};
            svg_tensor *mask = in.has("attention_mask") ? host.add(ctx, 2, ne, in["attention_mask"], "attention_mask") : nullptr;
            const std::vector<int32_t> ids = in.ids();
            const clip_text_output y = clip_text_forward(ctx, m, ids.data(), in.B(), in.L(), mask, &host);
            out = compute(be, ctx, {y.last_hidden_state, y.pooled}, host);
            svg_context_free(ctx);
        } else {
            ADD_FAILURE() << svg_last_error();
        }
    }
    svg_backend_free(be);
    return out;
}

// Relative L2 errors of last_hidden_state and of the pooled output (`pooled`:
// its recorded name); the larger.
double clip_error(const model_file &file, const char *component, const recorded &ref, const char *pooled, bool cuda = false) {
    const std::vector<std::vector<float>> y = clip_outputs(file, component, ref, cuda);
    if (y.size() != 2) return INFINITY;
    const double eh = svgtest::rel_l2(y[0], ref["last_hidden_state"]), ep = svgtest::rel_l2(y[1], ref[pooled]);
    printf("%s last_hidden_state rel L2 %.3g, %s rel L2 %.3g\n", cuda ? "CUDA" : "CPU", eh, pooled, ep);
    return std::max(eh, ep);
}

// A copy of a checkpoint with its tensors renamed (rename: name → new name)
// and extra tensors added, as another release names them.
std::string renamed_copy(const std::string &src, const std::string &tag, const std::function<std::string(const std::string &)> &rename,
                         const std::vector<std::pair<std::string, std::vector<int64_t>>> &extra) {
    svg_safetensors *st = svg_safetensors_open(src.c_str());
    EXPECT_NE(st, nullptr) << svg_last_error();
    if (!st) return "";
    svg_context *ctx = svg_context_new(false);
    std::vector<const svg_tensor *> ts;
    for (int64_t i = 0; i < svg_safetensors_n_tensors(st); i++) {
        int64_t ne[SVG_MAX_DIMS];
        svg_safetensors_shape(st, i, ne);
        svg_tensor *t = svg_new_tensor(ctx, SVG_TYPE_F32, svg_safetensors_n_dims(st, i), ne);
        EXPECT_TRUE(svg_safetensors_read_f32(st, i, (float *)t->data, svg_nelements(t)));
        svg_set_name(t, rename(svg_safetensors_name(st, i)).c_str());
        ts.push_back(t);
    }
    for (const auto &e : extra) {
        svg_tensor *t = svg_new_tensor(ctx, SVG_TYPE_F32, (int)e.second.size(), e.second.data());
        std::fill((float *)t->data, (float *)t->data + svg_nelements(t), 0.5f);
        ts.push_back(svg_set_name(t, e.first.c_str()));
    }
    const std::string path = "/tmp/svg-test-htext-" + tag + "-" + std::to_string(getpid()) + ".safetensors";
    EXPECT_TRUE(svg_safetensors_write(path.c_str(), ts.data(), (int64_t)ts.size())) << svg_last_error();
    svg_context_free(ctx);
    svg_safetensors_free(st);
    return path;
}

bool any_line_has(const std::vector<std::string> &lines, const std::string &a, const std::string &b) {
    for (const std::string &l : lines)
        if (l.find(a) != std::string::npos && l.find(b) != std::string::npos) return true;
    return false;
}

}  // namespace

// ------------------------------------------------------------------ Llama

TEST(HunyuanTextEncoders, LlamaMatchesReference) {
    model_file file;
    ASSERT_TRUE(convert({source("text_encoder", kGolden + "text_encoder")}, SVG_TYPE_COUNT, "llama", &file)) << svg_last_error();
    EXPECT_STREQ(svg_gguf_get_string(file.f, "svg.text_encoder.class"), "LlamaModel");
    EXPECT_LE(llama_error(file, recorded(kGolden + "llama_forward.safetensors"), false, "golden"), 1e-4);
}

// HunyuanVideo's hidden_states[-3]: the graph stops after layer n − 2, with
// no final norm, and gives the same values.
TEST(HunyuanTextEncoders, LlamaStopsAtTheRequestedState) {
    model_file file;
    ASSERT_TRUE(convert({source("text_encoder", kGolden + "text_encoder")}, SVG_TYPE_COUNT, "llama-stop", &file)) << svg_last_error();
    const recorded ref(kGolden + "llama_forward.safetensors");
    const std::vector<std::vector<float>> states = llama_states(file, ref, false, -3);
    ASSERT_EQ(states.size(), 3u);  // embeddings, layers 1 and 2
    EXPECT_LE(svgtest::rel_l2(states.back(), ref["hidden_states.2"]), 1e-4);
    EXPECT_EQ(llama_states(file, ref, false, 0).size(), 1u);
    // out of range: 0 … 4 and −1 … −5
    svg_backend *be = svgtest::new_backend(false);
    ASSERT_NE(be, nullptr);
    {
        llama_model m;
        ASSERT_TRUE(llama_load(file.f, be, &m)) << svg_last_error();
        svg_context *ctx = svg_context_new(true);
        svg_host_inputs host;
        svg_tensor *ids = svg_new_tensor_2d(ctx, SVG_TYPE_I32, 1, 4);
        EXPECT_EQ(llama_forward(ctx, m, ids, nullptr, 5, &host), nullptr);
        EXPECT_EQ(llama_forward(ctx, m, ids, nullptr, -6, &host), nullptr);
        EXPECT_NE(llama_forward(ctx, m, ids, nullptr, -5, &host), nullptr);
        svg_context_free(ctx);
    }
    svg_backend_free(be);
}

// The held-out LlamaForCausalLM: "model." names, an lm_head (dropped, with a
// note), rope_theta at the top level, head_dim from hidden / heads, one kv
// head for five query heads; rows right-padded, left-padded and unpadded
// (padded rows included: a left-padded row's padding attends to nothing, as
// in the reference).
TEST(HunyuanTextEncoders, LlamaHeldOutPadding) {
    model_file file;
    std::vector<std::string> log;
    ASSERT_TRUE(convert({source("text_encoder", kExtra + "llama")}, SVG_TYPE_COUNT, "llama-extra", &file, &log)) << svg_last_error();
    EXPECT_STREQ(svg_gguf_get_string(file.f, "svg.text_encoder.class"), "LlamaForCausalLM");
    EXPECT_TRUE(any_line_has(log, "note: text_encoder: 1 tensor", "lm_head.weight"));
    EXPECT_LE(llama_error(file, recorded(kExtra + "llama_forward.safetensors"), false, "held-out"), 1e-4);
}

// q8_0 linear weights (the embedding included): rounded, so only close. The
// tiny tower's rows are one 32-value block each and its random weights
// amplify the rounding layer by layer: 0.5% at the embeddings, 1.5% at the
// final state.
TEST(HunyuanTextEncoders, LlamaQ8WeightsStayClose) {
    model_file file;
    ASSERT_TRUE(convert({source("text_encoder", kGolden + "text_encoder")}, SVG_TYPE_Q8_0, "llama-q8", &file)) << svg_last_error();
    const int64_t i = svg_gguf_find_tensor(file.f, "te.embed_tokens.weight");
    ASSERT_GE(i, 0);
    EXPECT_EQ(svg_gguf_tensor_type(file.f, i), SVG_TYPE_Q8_0);
    const double e = llama_error(file, recorded(kGolden + "llama_forward.safetensors"), false, "q8_0");
    EXPECT_LE(e, 2e-2);
    EXPECT_GT(e, 1e-6) << "q8_0 weights were not quantized";
}

// transformers ≥ 5 nests rope_theta in rope_parameters: the model file keeps
// it as a dotted key, and the loader reads it from there.
TEST(HunyuanTextEncoders, NestedConfigKeys) {
    model_file file;
    ASSERT_TRUE(convert({source("text_encoder", kGolden + "text_encoder")}, SVG_TYPE_COUNT, "llama-keys", &file)) << svg_last_error();
    double theta = 0;
    EXPECT_TRUE(svg_gguf_get_float(file.f, "svg.text_encoder.rope_parameters.rope_theta", &theta));
    EXPECT_EQ(theta, 500000.0);
    EXPECT_STREQ(svg_gguf_get_string(file.f, "svg.text_encoder.rope_parameters.rope_type"), "default");
    svg_backend *be = svgtest::new_backend(false);
    ASSERT_NE(be, nullptr);
    {
        llama_model loaded;
        ASSERT_TRUE(llama_load(file.f, be, &loaded)) << svg_last_error();
        EXPECT_EQ(loaded.rope_theta, 500000.0f);
        EXPECT_EQ(loaded.heads, 4);
        EXPECT_EQ(loaded.kv_heads, 2);
        EXPECT_EQ(loaded.head_dim, 8);
    }
    svg_backend_free(be);
}

// LLaVA's naming (ComfyUI's llava_llama3_fp16.safetensors): the tower under
// "language_model.model.", its head, vision tower and projector dropped.
TEST(HunyuanTextEncoders, LlavaNaming) {
    const std::string path = renamed_copy(
        kGolden + "text_encoder/model.safetensors", "llava", [](const std::string &n) { return "language_model.model." + n; },
        {{"language_model.lm_head.weight", {1000, 32}},
         {"vision_tower.vision_model.embeddings.class_embedding", {16}},
         {"multi_modal_projector.linear_1.weight", {32, 16}}});
    model_file file;
    std::vector<std::string> log;
    const bool ok = convert({source("text_encoder", path, kGolden + "text_encoder/config.json")}, SVG_TYPE_COUNT, "llava", &file, &log);
    unlink(path.c_str());
    ASSERT_TRUE(ok) << svg_last_error();
    EXPECT_TRUE(any_line_has(log, "3 tensors", "multi_modal_projector.linear_1.weight"));
    EXPECT_LE(llama_error(file, recorded(kGolden + "llama_forward.safetensors"), false, "llava naming"), 1e-4);
}

// Without config: 128-dim heads (every Llama 2 / 3 release) and Llama 3's
// rope theta for its vocabulary; a tower whose widths are not whole 128-dim
// heads asks for --config.
TEST(HunyuanTextEncoders, LlamaConfigInference) {
    svg_shape_map shapes = {{"embed_tokens.weight", {128256, 4096}},
                            {"layers.0.self_attn.q_proj.weight", {4096, 4096}},
                            {"layers.0.self_attn.k_proj.weight", {1024, 4096}},
                            {"layers.0.mlp.gate_proj.weight", {14336, 4096}},
                            {"layers.31.input_layernorm.weight", {4096}}};
    nlohmann::json c;
    ASSERT_TRUE(svg_convert_arch_llama.infer_config(shapes, &c)) << svg_last_error();
    EXPECT_EQ(c["num_attention_heads"], 32);
    EXPECT_EQ(c["num_key_value_heads"], 8);
    EXPECT_EQ(c["num_hidden_layers"], 32);
    EXPECT_EQ(c["rope_theta"], 500000.0);
    std::vector<svg_convert_param> params;
    EXPECT_TRUE(svg_convert_arch_llama.parameters(c, &params)) << svg_last_error();
    EXPECT_EQ(params.size(), 2u + 32u * 9u);

    model_file file;
    EXPECT_FALSE(convert({source("text_encoder", kGolden + "text_encoder/model.safetensors")}, SVG_TYPE_COUNT, "llama-infer", &file));
    EXPECT_NE(std::string(svg_last_error()).find("--config"), std::string::npos) << svg_last_error();
}

// ------------------------------------------------------------------ CLIP

// The golden CLIPTextModel as HunyuanVideo's second encoder; its config has
// eos_token_id 2, so transformers pools at the largest id (position 10 of
// the recorded ids), not at the first eos (12).
TEST(HunyuanTextEncoders, ClipMatchesReference) {
    model_file file;
    ASSERT_TRUE(convert({source("text_encoder_2", kGolden + "text_encoder_2")}, SVG_TYPE_COUNT, "clip", &file)) << svg_last_error();
    EXPECT_STREQ(svg_gguf_get_string(file.f, "svg.text_encoder_2.class"), "CLIPTextModel");
    EXPECT_GE(svg_gguf_find_tensor(file.f, "text_encoder_2.encoder.layers.1.self_attn.out_proj.bias"), 0);
    const recorded ref(kGolden + "clip_forward.safetensors");
    EXPECT_LE(clip_error(file, "text_encoder_2", ref, "pooler_output"), 1e-4);
    clip_text m;
    m.eos_token_id = 2;
    const std::vector<int32_t> ids = ref.ids();
    EXPECT_EQ(clip_text_pool_positions(m, ids.data(), 1, ref.L()), std::vector<int64_t>{10});
}

// The held-out CLIPTextModelWithProjection: exact GELU, eos_token_id 5 (the
// first eos, ahead of larger ids and of a later eos), one right-padded row,
// text_projection on the pooled state.
TEST(HunyuanTextEncoders, ClipWithProjectionHeldOut) {
    model_file file;
    ASSERT_TRUE(convert({source("text_encoder_2", kExtra + "clip")}, SVG_TYPE_COUNT, "clip-proj", &file)) << svg_last_error();
    EXPECT_STREQ(svg_gguf_get_string(file.f, "svg.text_encoder_2.class"), "CLIPTextModelWithProjection");
    const recorded ref(kExtra + "clip_forward.safetensors");
    EXPECT_LE(clip_error(file, "text_encoder_2", ref, "text_embeds"), 1e-4);
    clip_text m;
    m.eos_token_id = 5;
    const std::vector<int32_t> ids = ref.ids();
    EXPECT_EQ(clip_text_pool_positions(m, ids.data(), 2, ref.L()), (std::vector<int64_t>{7, 4}));
}

// ComfyUI's clip_l.safetensors naming: the tower under
// "transformer.text_model." (older transformers: "text_model."), with
// logit_scale and a text_projection a CLIPTextModel drops; without a config
// the widths give 64-dim heads (CLIP-L: 12).
TEST(HunyuanTextEncoders, ComfyClipNaming) {
    std::vector<std::string> out;
    std::string scheme;
    ASSERT_TRUE(svg_convert_arch_clip_text.rename({"transformer.text_model.embeddings.token_embedding.weight",
                                                   "transformer.text_model.encoder.layers.11.self_attn.out_proj.weight",
                                                   "logit_scale", "text_projection.weight"},
                                                  &out, &scheme))
        << svg_last_error();
    EXPECT_EQ(out, (std::vector<std::string>{"embeddings.token_embedding.weight", "encoder.layers.11.self_attn.out_proj.weight", "", ""}));
    // (a copy under "text_model.": the longer prefix does not fit an svg tensor name)
    const std::string path = renamed_copy(
        kGolden + "text_encoder_2/model.safetensors", "clip-l", [](const std::string &n) { return "text_model." + n; },
        {{"logit_scale", {}}, {"text_projection.weight", {24, 24}}});
    model_file file;
    std::vector<std::string> log;
    const bool ok = convert({source("text_encoder_2", path, kGolden + "text_encoder_2/config.json")}, SVG_TYPE_COUNT, "clip-l", &file, &log);
    unlink(path.c_str());
    ASSERT_TRUE(ok) << svg_last_error();
    EXPECT_TRUE(any_line_has(log, "2 tensors", "logit_scale"));
    EXPECT_LE(clip_error(file, "text_encoder_2", recorded(kGolden + "clip_forward.safetensors"), "pooler_output"), 1e-4);

    svg_shape_map shapes = {{"embeddings.token_embedding.weight", {49408, 768}},
                            {"embeddings.position_embedding.weight", {77, 768}},
                            {"encoder.layers.0.mlp.fc1.weight", {3072, 768}},
                            {"encoder.layers.11.layer_norm1.weight", {768}}};
    nlohmann::json c;
    ASSERT_TRUE(svg_convert_arch_clip_text.infer_config(shapes, &c)) << svg_last_error();
    EXPECT_EQ(c["num_attention_heads"], 12);
    EXPECT_EQ(c["num_hidden_layers"], 12);
    EXPECT_EQ(c["eos_token_id"], 2);
    EXPECT_EQ(c["hidden_act"], "quick_gelu");
}

// ------------------------------------------------------------ svg-forward

// Both encoders in one model file, through svg_forward_component as
// svg-forward runs them: the Llama's hidden_states.i and CLIP's
// last_hidden_state / pooler_output under the reference's names.
TEST(HunyuanTextEncoders, SvgForwardBothEncoders) {
    model_file file;
    ASSERT_TRUE(convert({source("text_encoder", kGolden + "text_encoder"), source("text_encoder_2", kGolden + "text_encoder_2")},
                        SVG_TYPE_COUNT, "both", &file))
        << svg_last_error();
    svg_backend *be = svgtest::new_backend(false);
    ASSERT_NE(be, nullptr);
    for (const char *cse : {"llama_forward", "clip_forward"}) {
        const std::string path = kGolden + cse + ".safetensors";
        svg_safetensors *in = svg_safetensors_open(path.c_str());
        ASSERT_NE(in, nullptr) << svg_last_error();
        svg_forward_result r;
        const std::string component = cse == std::string("llama_forward") ? "text_encoder" : "text_encoder_2";
        EXPECT_TRUE(svg_forward_component(file.f, component, be, SVG_TYPE_F32, in, &r)) << svg_last_error();
        const recorded ref(path);
        size_t compared = 0;
        for (const auto &kv : ref.v) {
            if (kv.first == "input_ids" || kv.first == "attention_mask") continue;
            const svg_forward_tensor *t = r.get(kv.first);
            EXPECT_NE(t, nullptr) << component << " gives no " << kv.first;
            if (!t) continue;
            EXPECT_EQ(t->shape, ref.shape.at(kv.first)) << kv.first;
            EXPECT_LE(svgtest::rel_l2(t->values, kv.second), 1e-4) << component << " " << kv.first;
            compared++;
        }
        EXPECT_EQ(compared, r.outputs.size()) << component;
        svg_safetensors_free(in);
    }
    svg_backend_free(be);
}

// ------------------------------------------------------------------ CUDA

// bf16 weights (-t bf16) on the GPU: the fp16/bf16 tolerance.
TEST(HunyuanTextEncodersCuda, LlamaBf16) {
    SVG_NEED_CUDA();
    for (const auto &cse : {std::make_pair(kGolden + "text_encoder", kGolden + "llama_forward.safetensors"),
                            std::make_pair(kExtra + "llama", kExtra + "llama_forward.safetensors")}) {
        model_file file;
        ASSERT_TRUE(convert({source("text_encoder", cse.first)}, SVG_TYPE_BF16, "llama-bf16", &file)) << svg_last_error();
        EXPECT_LE(llama_error(file, recorded(cse.second), true, "CUDA bf16"), 2e-2) << cse.first;
    }
}

TEST(HunyuanTextEncodersCuda, ClipBf16) {
    SVG_NEED_CUDA();
    for (const auto &cse : {std::make_tuple(kGolden + "text_encoder_2", kGolden + "clip_forward.safetensors", "pooler_output"),
                            std::make_tuple(kExtra + "clip", kExtra + "clip_forward.safetensors", "text_embeds")}) {
        model_file file;
        ASSERT_TRUE(convert({source("text_encoder_2", std::get<0>(cse))}, SVG_TYPE_BF16, "clip-bf16", &file)) << svg_last_error();
        EXPECT_LE(clip_error(file, "text_encoder_2", recorded(std::get<1>(cse)), std::get<2>(cse), true), 2e-2) << std::get<0>(cse);
    }
}

// f32 weights on the GPU: the encoders compute in f32 there too.
TEST(HunyuanTextEncodersCuda, F32MatchesReference) {
    SVG_NEED_CUDA();
    model_file llama, clip;
    ASSERT_TRUE(convert({source("text_encoder", kExtra + "llama")}, SVG_TYPE_COUNT, "llama-cuda", &llama)) << svg_last_error();
    EXPECT_LE(llama_error(llama, recorded(kExtra + "llama_forward.safetensors"), true, "CUDA f32"), 1e-4);
    ASSERT_TRUE(convert({source("text_encoder_2", kExtra + "clip")}, SVG_TYPE_COUNT, "clip-cuda", &clip)) << svg_last_error();
    EXPECT_LE(clip_error(clip, "text_encoder_2", recorded(kExtra + "clip_forward.safetensors"), "text_embeds", true), 1e-4);
}
