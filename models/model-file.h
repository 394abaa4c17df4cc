// The layout of an svg.cpp model file (GGUF), shared by the converter and the
// model loaders.
//
//   general.architecture   "wan" (the pipeline family), general.name
//   svg.components         string array of the components present, e.g. ["transformer"]
//   svg.<component>.class  the reference class, e.g. "WanTransformer3DModel"
//   svg.<component>.<key>  every hyper-parameter of the component's diffusers
//                          config.json (keys starting with '_' and null values
//                          are left out): integers → INT64, floats → FLOAT32,
//                          booleans → BOOL, strings → STRING, lists of integers
//                          → INT64 arrays, lists of floats → FLOAT32 arrays, lists
//                          of booleans → BOOL arrays
//   svg.<component>.tensor_prefix  short prefix of its tensors, e.g. "dit."
//                          (GGUF tools limit tensor names to 63 bytes, and
//                          "transformer." + the longest diffusers names exceed it)
//   tensors                prefix + the diffusers parameter name, in PyTorch
//                          shape order (e.g. "dit.blocks.0.attn1.to_q.weight")
// Prefixes: transformer "dit.", text_encoder "te.", vae "vae.", image_encoder "clip.".
// Where even that exceeds the limit a component renames one parameter, and
// says so in its converter (umT5: "...SelfAttention.relative_bias.weight" for
// transformers' "...relative_attention_bias.weight").
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "svg.h"

// Hyper-parameters of one component read back from the file.
struct svg_component_config {
    std::string component;  // "transformer"
    std::string cls;        // svg.<component>.class
    const svg_gguf *file = nullptr;

    bool has(const char *key) const;
    // Missing or mistyped keys set an error and return false.
    bool get_int(const char *key, int64_t *out) const;
    bool get_float(const char *key, double *out) const;
    bool get_bool(const char *key, bool *out) const;
    bool get_string(const char *key, std::string *out) const;
    bool get_ints(const char *key, std::vector<int64_t> *out) const;
    // Optional keys: the default when absent.
    int64_t int_or(const char *key, int64_t def) const;
    double float_or(const char *key, double def) const;
    bool bool_or(const char *key, bool def) const;
};

// The tensor prefix a component gets in new files ("dit." for "transformer").
std::string svg_component_tensor_prefix(const std::string &component);

bool svg_component_config_open(const svg_gguf *f, const char *component, svg_component_config *out);

// The weights of one component, loaded into a backend buffer.
struct svg_component_weights {
    svg_context *ctx = nullptr;
    svg_buffer *buf = nullptr;
    std::map<std::string, svg_tensor *> tensors;  // by name without the component prefix
    ~svg_component_weights();
    // NULL + error naming the tensor when missing.
    svg_tensor *get(const std::string &name) const;
    svg_tensor *get_opt(const std::string &name) const;  // NULL when absent, no error
    // The tensor present with this shape (PyTorch order), else false + an
    // error naming it, its shape and the one the config implies.
    bool has_shape(const std::string &name, const std::vector<int64_t> &want) const;
};

// Bytes of a component's weights in f (0 when it has none).
size_t svg_component_bytes(const svg_gguf *f, const char *component);

// Load every "<component>." tensor of f into one buffer of be.
bool svg_component_weights_load(const svg_gguf *f, const char *component, svg_backend *be,
                                svg_component_weights *out);

// Values a model's graph needs that it computes on the host (position
// tables): recorded while building, uploaded once the graph is allocated.
struct svg_host_inputs {
    std::vector<std::pair<svg_tensor *, std::vector<float>>> values;
    std::vector<std::pair<svg_tensor *, std::vector<int32_t>>> ids;  // token ids, indices
    svg_tensor *add(svg_context *ctx, int n_dims, const int64_t *ne, std::vector<float> v, const char *name);
    svg_tensor *add_i32(svg_context *ctx, int n_dims, const int64_t *ne, std::vector<int32_t> v, const char *name);
    bool upload() const;
};

// Build the graph of `out`, plan it with ga (its buffer is reused between
// calls), upload the host inputs, compute, and read `out` back as f32.
bool svg_compute_to_host(svg_backend *be, svg_gallocr *ga, svg_context *ctx, svg_tensor *out, const svg_host_inputs &host,
                         std::vector<float> *result);
