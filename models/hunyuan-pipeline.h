// The HunyuanVideo pipeline stages, as diffusers' HunyuanVideoPipeline:
// Llama prompt embeddings (the prompt template, its tokens cropped, the
// third-from-last hidden state, 256 tokens with their mask), the CLIP-L
// pooled output, and the flow-matching Euler loop with embedded guidance
// (one forward per step; true classifier-free guidance with a negative
// prompt optional). Latents are [1, C, F, h, w] on the host.
#pragma once

#include <string>
#include <vector>

#include "models/clip-text.h"
#include "models/denoise.h"
#include "models/hunyuan-vae.h"
#include "models/hunyuan.h"
#include "models/llama.h"
#include "src/bpe.h"

// One prompt's conditioning: Llama embeddings [len × text_dim] with their
// mask (1 = token), CLIP pooled [pooled_dim].
struct hunyuan_text {
    std::vector<float> embeds, mask, pooled;
    int64_t len = 0;
};

struct hunyuan_denoise_inputs {
    std::vector<int64_t> latent_shape;  // [1, C, F, h, w]
    std::vector<float> latents;         // initial noise, replaced by the result
    hunyuan_text cond, uncond;          // uncond: only with true CFG (guidance > 1)
};

// The shared settings (models/denoise.h; guidance is the true CFG scale,
// off by default as in the reference) and HunyuanVideo's own: the embedded
// guidance the distilled model is given (×1000) and the Euler schedule's shift.
struct hunyuan_denoise_options : svg_denoise_options {
    hunyuan_denoise_options() { guidance = 1.0f; }
    float embedded_guidance = 6.0f;
    double shift = 7.0;
};

bool hunyuan_denoise(const hunyuan_transformer &m, svg_backend *be, hunyuan_denoise_inputs &in, const hunyuan_denoise_options &opt);

// HunyuanVideo's prompt template (the release's, as diffusers' pipeline
// has it): the prompt goes where "{}" is.
extern const char *const hunyuan_prompt_template;

// The tokens the template puts before the prompt (its start, bos included):
// the rows the pipeline drops from the Llama output. 95 with the release's
// Llama 3 tokenizer, the value diffusers hard-codes as crop_start.
int hunyuan_template_crop(const svg_bpe_tokenizer &tok);

// The Llama side: the template filled with the prompt, tokenized (bos
// first) and truncated / padded to crop + max_len tokens, through the text
// tower up to hidden_states[-3]; the first `crop` rows dropped → embeds
// [max_len × hidden] and their mask. n_tokens: the prompt's own tokens
// (tokenized alone) as far as they were kept.
bool hunyuan_encode_llama(const svg_bpe_tokenizer &tok, const llama_model &te, svg_backend *be, const std::string &prompt, int max_len,
                          hunyuan_text *out, int *n_tokens);

// The CLIP side: 77 tokens (<|startoftext|> … <|endoftext|>, truncated,
// padded with the pad token), no attention mask, the pooled output → out->pooled.
bool hunyuan_encode_clip(const svg_bpe_tokenizer &tok, const clip_text &te, svg_backend *be, const std::string &prompt, hunyuan_text *out);

// The decode of HunyuanVideoPipeline: latents [1, C, F, h, w] divided by the
// scaling factor, the VAE in framewise windows and spatial tiles → video
// [1, 3, frames, H, W] in about [−1, 1] (unclamped).
bool hunyuan_decode_latents(const hunyuan_vae &vae, svg_backend *be, const std::vector<float> &latents, const std::vector<int64_t> &shape,
                            vae_tensor *video, const vae_progress &progress = {});
