// Checkpoint → svg.cpp model file: reads what users download (diffusers model
// or pipeline folders, original / ComfyUI single-file checkpoints) and writes
// one GGUF in the layout of models/model-file.h, optionally re-typed or
// quantized. Several components (transformer, later text encoder, VAE) go into
// one file under distinct name prefixes; each is one svg_convert_source.
//
// Errors: functions return false and set svg_last_error() to one line.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

#include "svg.h"

// One component of the output file.
struct svg_convert_source {
    // Tensor name prefix and svg.<component>.* key prefix. For a pipeline
    // folder, also the sub-folder read ("<path>/<component>/"). Empty: the
    // slot of the class found (svg_convert_arch::component). Given, it must
    // be that slot, optionally numbered ("transformer_2": Wan 2.2's second
    // transformer).
    std::string component;
    // A diffusers model folder (config.json + diffusion_pytorch_model*.safetensors,
    // sharded or not), a pipeline folder holding <component>/, or a single
    // checkpoint file (.safetensors or .safetensors.index.json). Empty with
    // svg_convert_options::random.
    std::string path;
    // config.json used instead of the folder's, or instead of inferring the
    // hyper-parameters from a single file's tensor shapes. Required with random.
    std::string config_path;
};

struct svg_convert_options {
    std::vector<svg_convert_source> sources;
    // The text encoder's tokenizer (spiece.model or tokenizer.json), stored as
    // svg.tokenizer.model (u8 array) + svg.tokenizer.format ("spm" / "hf_json").
    // Empty: none (a pipeline folder's tokenizer/ is found by the command line).
    std::string tokenizer_path;
    // text_encoder_2's tokenizer (HunyuanVideo's CLIP): a tokenizer.json, or
    // CLIP's vocab.json with merges.txt beside it, as svg.tokenizer_2.*.
    std::string tokenizer_2_path;
    // scheduler_config.json: its scalar keys become svg.scheduler.* (sampler
    // defaults such as flow_shift). Empty: none.
    std::string scheduler_config_path;
    std::string output;
    std::string name;  // general.name; empty: derived from the first source's path
    // Type of the 2-D linear weights (f32, f16, bf16, q8_0, q4_0, q4_K, q5_K, q6_K); every other
    // tensor is written f32. SVG_TYPE_COUNT: the source's own float type
    // (f32 with random).
    svg_type type = SVG_TYPE_COUNT;
    // A k-quant mix, as llama.cpp's: "q4_K_m" or "q5_K_m" (type then q4_K /
    // q5_K, the base). Linear weights take the base type, except q6_K for
    // (1) those outside the numbered blocks (embedders, condition projections,
    // output head), (2) adaLN modulation projections (a norm's ".linear"),
    // (3) every linear weight of the first and the last block of a stack,
    // (4) value and FFN-down projections in llama.cpp's "more bits" blocks
    // (i < n/8, i ≥ 7n/8, and every third between). Rows that are not whole
    // 256-value blocks take q8_0 (f32 when not whole 32-value blocks either).
    std::string mix;
    // Random weights from each source's config instead of reading a checkpoint.
    bool random = false;
    uint64_t seed = 0;
    int n_threads = 0;  // <= 0: hardware threads
    // Lines logged before converting (what a pipeline folder holds that is left out).
    std::vector<std::string> notes;
    // Progress lines (one per component and per tensor); may be empty.
    std::function<void(const std::string &)> log;
};

// Convert (or generate) every source and write options.output.
bool svg_convert(const svg_convert_options &opt);

// Parse the svg-convert command line (argv[0] is the program name). Sets
// *help when --help was given (nothing else is then checked).
bool svg_convert_parse_args(int argc, const char *const *argv, svg_convert_options *out, bool *help);
// The --help text.
const char *svg_convert_usage(void);

// ------------------------------------------------------------ architectures
// What the converter knows about one network class. Adding a component kind
// (text encoder, VAE) is adding one of these to the table in convert.cpp.

// How a parameter is stored: only LINEAR weights take the requested type.
enum svg_param_kind {
    SVG_PARAM_LINEAR,  // 2-D [out, in] weight of a linear layer
    SVG_PARAM_CONV,    // convolution kernel
    SVG_PARAM_NORM,    // normalization scale (random init: around 1)
    SVG_PARAM_BIAS,
    SVG_PARAM_TABLE,  // embedding / modulation / position table
};

struct svg_convert_param {
    std::string name;            // diffusers name, without the component prefix
    std::vector<int64_t> shape;  // PyTorch order
    svg_param_kind kind;
};

// Tensor name → shape (PyTorch order).
using svg_shape_map = std::map<std::string, std::vector<int64_t>>;

struct svg_convert_arch {
    const char *cls;        // diffusers _class_name, "WanTransformer3DModel"
    const char *family;     // general.architecture, "wan"
    const char *component;  // the slot it fills: transformer, text_encoder, vae, image_encoder
    // Map checkpoint tensor names (any "model.diffusion_model." prefix already
    // stripped) to diffusers names, one for one; names the scheme does not
    // know are passed through (validation reports them), an empty name drops
    // a tensor the network does not use (a language-model head; logged). false + error when
    // the names follow none of the class's naming schemes. *scheme: a word for
    // the log ("diffusers", "original").
    bool (*rename)(const std::vector<std::string> &names, std::vector<std::string> *out, std::string *scheme);
    // The config.json a checkpoint with these (diffusers-named) tensors has.
    bool (*infer_config)(const svg_shape_map &shapes, nlohmann::json *config);
    // Every parameter of a model with this config, in module order.
    bool (*parameters)(const nlohmann::json &config, std::vector<svg_convert_param> *out);
};

// ---- helpers the architecture files share

// The shape of a tensor config inference needs, checked for rank.
bool svg_convert_need(const svg_shape_map &shapes, const std::string &name, size_t rank, const std::vector<int64_t> **out);

// A required positive integer config key.
bool svg_convert_config_int(const nlohmann::json &config, const char *key, int64_t *out);
// Optional config keys: `def` when absent or null; false + error when of another type
// (integers: positive; floats: any number).
bool svg_convert_config_opt_int(const nlohmann::json &config, const char *key, int64_t def, int64_t *out);
bool svg_convert_config_opt_float(const nlohmann::json &config, const char *key, double def, double *out);
bool svg_convert_config_opt_bool(const nlohmann::json &config, const char *key, bool def, bool *out);

// Builds a parameter list in module order (the architectures' `parameters`).
struct svg_param_list {
    std::vector<svg_convert_param> *out;
    // [n_out, n_in] weight (+ [n_out] bias)
    void linear(const std::string &name, int64_t n_out, int64_t n_in, bool bias = true) const {
        out->push_back({name + ".weight", {n_out, n_in}, SVG_PARAM_LINEAR});
        if (bias) out->push_back({name + ".bias", {n_out}, SVG_PARAM_BIAS});
    }
    // norm scale [n] (+ bias)
    void norm(const std::string &name, int64_t n, bool bias = true) const {
        out->push_back({name + ".weight", {n}, SVG_PARAM_NORM});
        if (bias) out->push_back({name + ".bias", {n}, SVG_PARAM_BIAS});
    }
    // convolution kernel [n_out, n_in, k...] (+ [n_out] bias)
    void conv(const std::string &name, std::vector<int64_t> shape, bool bias = true) const {
        const int64_t n_out = shape[0];
        out->push_back({name + ".weight", std::move(shape), SVG_PARAM_CONV});
        if (bias) out->push_back({name + ".bias", {n_out}, SVG_PARAM_BIAS});
    }
};

// For networks whose checkpoints come in two namings (diffusers, and the
// release's original one): maps the original names with to_diffusers (false:
// not an original name), refuses a mix of both and names of neither. `what`
// names the network in messages ("Wan", "Wan VAE").
bool svg_convert_rename_two_schemes(const std::vector<std::string> &names,
                                    const std::function<bool(const std::string &, std::string *)> &to_diffusers,
                                    const std::function<bool(const std::string &)> &is_diffusers, const char *what,
                                    std::vector<std::string> *out, std::string *scheme);

// Checkpoints that stack several parameters in one tensor (fused q/k/v
// projections): `rename` maps such a tensor to its parameters' names joined
// by '|', in row order; each takes its own row count (from the parameter
// list). "name#i/n" is the i-th of n equal row blocks of a parameter, for a
// stacked tensor whose blocks are in another order ("b#1/2|b#0/2" swaps the
// halves). svg_convert_targets splits one renamed name.
struct svg_convert_target {
    std::string name;
    int64_t part = 0, parts = 1;
};
bool svg_convert_targets(const std::string &renamed, std::vector<svg_convert_target> *out);
// Rows [src_row, src_row + rows) of checkpoint tensor src fill rows
// [dst_row, dst_row + rows) of a parameter.
struct svg_convert_rows {
    int64_t src, src_row, dst_row, rows;
};

// The three arch functions of one class of a family whose functions take a
// bool variant switch (umT5 / T5, CLIP with / without projection).
template <bool (*Rename)(const std::vector<std::string> &, std::vector<std::string> *, std::string *, bool),
          bool (*Infer)(const svg_shape_map &, nlohmann::json *, bool),
          bool (*Params)(const nlohmann::json &, std::vector<svg_convert_param> *, bool), bool Variant>
struct svg_convert_variant {
    static bool rename(const std::vector<std::string> &names, std::vector<std::string> *out, std::string *scheme) {
        return Rename(names, out, scheme, Variant);
    }
    static bool infer_config(const svg_shape_map &shapes, nlohmann::json *config) { return Infer(shapes, config, Variant); }
    static bool parameters(const nlohmann::json &config, std::vector<svg_convert_param> *out) {
        return Params(config, out, Variant);
    }
};

// Wan 2.1 / 2.2 transformer (convert-wan.cpp).
extern const svg_convert_arch svg_convert_arch_wan;
extern const svg_convert_arch svg_convert_arch_wan_vae;  // Wan 2.1 VAE (convert-wan-vae.cpp)
extern const svg_convert_arch svg_convert_arch_umt5, svg_convert_arch_t5;  // umT5 / T5 v1.1 encoders (convert-umt5.cpp)
extern const svg_convert_arch svg_convert_arch_clip_vision, svg_convert_arch_clip_vision_projection;  // CLIP vision towers (convert-clip.cpp)
// CLIP text towers (convert-clip.cpp; HunyuanVideo's text_encoder_2)
extern const svg_convert_arch svg_convert_arch_clip_text, svg_convert_arch_clip_text_projection;
// Llama text tower (convert-llama.cpp; HunyuanVideo's text_encoder)
extern const svg_convert_arch svg_convert_arch_llama, svg_convert_arch_llama_causal_lm;
// CogVideoX 1.5 transformer and VAE (convert-cogvideox.cpp)
extern const svg_convert_arch svg_convert_arch_cogvideox, svg_convert_arch_cogvideox_vae;
// HunyuanVideo transformer (convert-hunyuan.cpp) and VAE (convert-hunyuan-vae.cpp)
extern const svg_convert_arch svg_convert_arch_hunyuan, svg_convert_arch_hunyuan_vae;

// Wan's config inference with an explicit head size: the shapes fix the inner
// dim but not how it splits into heads; the releases all use 128.
bool svg_wan_infer_config(const svg_shape_map &shapes, int64_t head_dim, nlohmann::json *config);
