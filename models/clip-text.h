// CLIP text encoder (transformers CLIPTextModel / CLIPTextModelWithProjection),
// HunyuanVideo's second text encoder (CLIP-L): the pipeline takes its pooled
// output, the final-normed state at the end-of-text token.
#pragma once

#include <cstdint>
#include <vector>

#include "models/clip-vision.h"

struct clip_text {
    int64_t vocab = 0, hidden = 0, intermediate = 0, heads = 0, layers = 0, positions = 0;
    int64_t eos_token_id = 2;
    int64_t projection_dim = 0;  // CLIPTextModelWithProjection's text_projection; 0: none
    float eps = 1e-5f;
    clip_activation act = CLIP_ACT_QUICK_GELU;
    svg_component_weights w;
};

// Read the hyper-parameters and upload the weights of `component`
// ("text_encoder_2" in HunyuanVideo files) to the backend.
bool clip_text_load(const svg_gguf *f, const char *component, svg_backend *be, clip_text *m);

// The position each row is pooled at, as transformers picks it: configs with
// eos_token_id 2 (those older than transformers PR #24773, CLIP-L's among
// them) take the largest token id (the real end-of-text id, 49407, is the
// largest of the vocabulary), the others the first position holding
// eos_token_id (0 when there is none). ids [B, L] row-major → [B].
std::vector<int64_t> clip_text_pool_positions(const clip_text &m, const int32_t *ids, int64_t B, int64_t L);

struct clip_text_output {
    svg_tensor *last_hidden_state = nullptr;  // [B, L, hidden], after final_layer_norm
    // [B, hidden]: pooler_output, or text_embeds ([B, projection_dim]) with a projection
    svg_tensor *pooled = nullptr;
};

// ids [B, L] token ids on the host (L <= positions; pooling needs their
// values, so the forward adds them as a host input itself), mask [B, L] f32
// (nonzero = real token) or NULL (HunyuanVideo passes none). Both outputs
// NULL on error.
clip_text_output clip_text_forward(svg_context *ctx, const clip_text &m, const int32_t *ids, int64_t B, int64_t L,
                                   svg_tensor *mask, svg_host_inputs *host_inputs);
