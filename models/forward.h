// One forward of a model-file component on named input tensors: what
// svg-forward and the golden tests run.
#pragma once

#include <string>
#include <vector>

#include "svg.h"

struct svg_forward_result {
    std::vector<int64_t> shape;
    std::vector<float> values;  // f32
};

// Inputs are read from `inputs` by the names the reference forward takes
// (transformer: hidden_states, timestep, encoder_hidden_states,
// encoder_hidden_states_image; text_encoder: input_ids, attention_mask;
// vae: z → decoded video, or video → latent mean). act: activation type of
// the transformer (f32 on the CPU).
bool svg_forward_component(const svg_gguf *f, const std::string &component, svg_backend *be, enum svg_type act,
                           const svg_safetensors *inputs, svg_forward_result *out);
