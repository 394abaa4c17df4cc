// umT5 / T5 v1.1 text encoder, as transformers' UMT5EncoderModel (Wan's text
// encoder) and T5EncoderModel (CogVideoX's). The two differ only in the
// relative position bias: umT5 gives every layer its own table, T5 computes
// it in layer 0 and shares it.
#pragma once

#include "models/model-file.h"

struct umt5_encoder {
    int64_t vocab = 0, d_model = 0, d_kv = 0, heads = 0, d_ff = 0, layers = 0;
    int64_t num_buckets = 0, max_distance = 0;
    bool per_layer_bias = true;  // UMT5EncoderModel; false: T5EncoderModel
    float eps = 1e-6f;
    svg_component_weights w;
};

// Read the hyper-parameters and upload the weights of the "text_encoder"
// component (class UMT5EncoderModel or T5EncoderModel) to the backend.
bool umt5_load(const svg_gguf *f, svg_backend *be, umt5_encoder *m);

// Build the forward pass.
//   ids   [B, L] i32 token ids
//   mask  [B, L] f32 attention mask (nonzero = real token), or NULL
// → last_hidden_state [B, L, d_model] f32. Padded positions are computed as
// the reference does (they attend to the real tokens only); real tokens do not
// see the padding. The relative-position buckets go to host_inputs.
svg_tensor *umt5_forward(svg_context *ctx, const umt5_encoder &m, svg_tensor *ids, svg_tensor *mask,
                         svg_host_inputs *host_inputs);

// T5's bidirectional relative position bucket of key position − query
// position: half the buckets per direction, exact up to half of those, then
// log-spaced up to max_distance (transformers' _relative_position_bucket).
int64_t umt5_relative_position_bucket(int64_t relative_position, int64_t num_buckets, int64_t max_distance);
