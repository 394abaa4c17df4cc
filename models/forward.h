// One forward of a model-file component on named input tensors: what
// svg-forward and the golden tests run.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "svg.h"

// One named f32 output.
struct svg_forward_tensor {
    std::string name;
    std::vector<int64_t> shape;
    std::vector<float> values;
};

struct svg_forward_result {
    // Every output, in the order svg-forward writes them.
    std::vector<svg_forward_tensor> outputs;
    // The output called `name`, NULL when there is none.
    const svg_forward_tensor *get(const std::string &name) const {
        for (const svg_forward_tensor &t : outputs)
            if (t.name == name) return &t;
        return nullptr;
    }
};

// Settings of the components that take more than tensors (the pipeline).
struct svg_forward_options {
    enum svg_type act = SVG_TYPE_F32;  // transformer activations (f32 on the CPU)
    // pipeline: the denoising loop's settings
    int steps = 50;
    float cfg = 5.0f;   // ≤ 1: no negative prompt, one forward per step
    float shift = 0;    // 0: the model's svg.scheduler.flow_shift, else 3.0
    std::string sampler;  // "": the model's; Wan: unipc | euler, CogVideoX: ddim | dpm
    // pipeline: the video size. 0: from latents_init (×8 spatially,
    // 4 (F − 1) + 1 frames); given, it must agree with latents_init.
    int width = 0, height = 0, frames = 0;
};

// The components and what they read / write (names as the reference
// forwards and the goldens):
//   transformer   hidden_states, timestep, encoder_hidden_states
//                 [, encoder_hidden_states_image] → out
//   text_encoder  input_ids [, attention_mask] → last_hidden_state (umT5 / T5),
//                 hidden_states.0 … hidden_states.N (Llama)
//   text_encoder_2  input_ids → last_hidden_state, pooler_output (CLIP;
//                 text_embeds with a projection)
//   image_encoder pixel_values → penultimate_hidden_states
//   vae_decode    z → video ([B, 3, F, H, W] in [-1, 1])
//   vae_encode    video → mean, logvar
//   vae           z → video, or video → mean, logvar (whichever input is there)
//   pipeline      prompt_embeds, latents_init [, negative_prompt_embeds]
//                 [HunyuanVideo: prompt_attention_mask, pooled_prompt_embeds]
//                 [I2V: image ([B, 3, H, W] in [0, 1]), image_embeds]
//                 → timesteps, latents_step0 … latents_step{N−1}, video
//                 ([B, F, 3, H, W] in [0, 1], as WanPipeline returns it)
// false with svg_last_error() naming what is missing or wrong.
bool svg_forward_component(const svg_gguf *f, const std::string &component, svg_backend *be,
                           const svg_forward_options &opt, const svg_safetensors *inputs, svg_forward_result *out);

// The same with default options and activations `act`.
bool svg_forward_component(const svg_gguf *f, const std::string &component, svg_backend *be, enum svg_type act,
                           const svg_safetensors *inputs, svg_forward_result *out);

// The component names svg_forward_component takes, for messages, and whether
// `name` is one of them (tokenizer included).
const char *svg_forward_components(void);
bool svg_forward_is_component(const std::string &name);

// A tokenizer stored in the model file (which: "tokenizer" = svg.tokenizer.*,
// "tokenizer_2" = svg.tokenizer_2.*) on `text`: the ids it gives without
// special tokens (no eos, no bos), no cleaning.
bool svg_forward_tokenize(const svg_gguf *f, const std::string &text, std::vector<int32_t> *ids, const std::string &which = "tokenizer");
