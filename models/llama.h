// Llama text tower (transformers LlamaModel; LlamaForCausalLM files give the
// same tower), HunyuanVideo's first text encoder (llava-llama-3-8b's language
// model): the pipeline takes hidden_states[-3], the output of layer
// n_layers − 2, before the final norm.
#pragma once

#include <vector>

#include "models/model-file.h"

struct llama_model {
    int64_t vocab = 0, hidden = 0, intermediate = 0, heads = 0, kv_heads = 0, head_dim = 0, layers = 0;
    float rope_theta = 10000.0f, eps = 1e-6f;
    svg_component_weights w;
};

// Read the hyper-parameters and upload the weights of the "text_encoder"
// component (class LlamaModel or LlamaForCausalLM) to the backend: rope
// theta from rope_parameters.rope_theta (transformers ≥ 5) or rope_theta,
// head_dim hidden / heads unless given.
bool llama_load(const svg_gguf *f, svg_backend *be, llama_model *m);

// Build the forward pass up to one hidden state.
//   ids   [B, L] i32 token ids
//   mask  [B, L] f32 attention mask (nonzero = real token; right or left
//         padding), or NULL
//   hidden_state  which of transformers' hidden_states to return: 0 the
//         embeddings, i the output of layer i, layers the final-normed
//         output; negative counts from the end (−1 = layers). Only the
//         layers it needs are built.
//   states  when not NULL, receives every hidden state up to that one
//         (transformers' output_hidden_states, states[i] = hidden_states[i])
// → [B, L, hidden] f32. Causal attention over the real tokens, at positions
// 0 … L−1 whatever the padding, as transformers' sdpa path: a left-padded
// row's padding queries see no key and attend to nothing (zeros, as
// torch's sdpa gives fully masked rows).
svg_tensor *llama_forward(svg_context *ctx, const llama_model &m, svg_tensor *ids, svg_tensor *mask, int64_t hidden_state,
                          svg_host_inputs *host_inputs, std::vector<svg_tensor *> *states = nullptr);
