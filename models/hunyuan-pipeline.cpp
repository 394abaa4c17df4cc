// HunyuanVideo pipeline stages (models/hunyuan-pipeline.h), as diffusers'
// HunyuanVideoPipeline.
#include "models/hunyuan-pipeline.h"

#include "src/svg-impl.h"

const char *const hunyuan_prompt_template =
    "<|start_header_id|>system<|end_header_id|>\n\nDescribe the video by detailing the following aspects: "
    "1. The main content and theme of the video."
    "2. The color, shape, size, texture, quantity, text, and spatial relationships of the objects."
    "3. Actions, events, behaviors temporal relationships, physical movement changes of the objects."
    "4. background environment, light, style and atmosphere."
    "5. camera angles, movements, and transitions used in the video:<|eot_id|>"
    "<|start_header_id|>user<|end_header_id|>\n\n{}<|eot_id|>";

namespace {

// The tokenizer call of the pipelines (padding="max_length",
// truncation=True, special tokens added): the text's tokens cut so that with
// the special tokens they fit max_len, then padded with the pad id. mask: 1
// on real tokens. n_text: the text's tokens kept.
bool tokenize_padded(const svg_bpe_tokenizer &tok, const std::string &text, int max_len, std::vector<int32_t> *ids, std::vector<float> *mask,
                     int *n_text) {
    if (!tok.loaded()) return svg_err(false, "prompt encoding: no tokenizer");
    std::vector<int32_t> body = tok.encode(text, false);
    const std::vector<int32_t> specials = tok.encode("", true);
    // bos (when the post-processor puts one first), the rest after the text
    const bool bos = !specials.empty() && specials[0] == tok.bos_id();
    const size_t n_special = specials.size();
    if ((size_t)max_len <= n_special) return svg_err(false, "prompt encoding: %d tokens leave no room for the text", max_len);
    if (body.size() > (size_t)max_len - n_special) body.resize((size_t)max_len - n_special);
    ids->clear();
    if (bos) ids->push_back(specials[0]);
    ids->insert(ids->end(), body.begin(), body.end());
    ids->insert(ids->end(), specials.begin() + (bos ? 1 : 0), specials.end());
    mask->assign(ids->size(), 1.f);
    const int pad = tok.pad_id();
    if (pad < 0) return svg_err(false, "prompt encoding: the tokenizer has no pad token");
    ids->resize((size_t)max_len, pad);
    mask->resize((size_t)max_len, 0.f);
    *n_text = (int)body.size();
    return true;
}

bool check_ids(const std::vector<int32_t> &ids, int64_t vocab, const char *what) {
    for (int32_t id : ids)
        if (id < 0 || id >= vocab)
            return svg_err(false, "prompt encoding: token id %d outside %s's vocabulary of %lld (tokenizer and encoder do not match)", id, what,
                           (long long)vocab);
    return true;
}

// Compute y into *out on be, then free the context.
bool compute(svg_backend *be, svg_context *ctx, svg_tensor *y, const svg_host_inputs &host, std::vector<float> *out) {
    svg_gallocr *ga = svg_gallocr_new(be);
    const bool ok = y && svg_compute_to_host(be, ga, ctx, y, host, out);
    svg_gallocr_free(ga);
    svg_context_free(ctx);
    return ok;
}

// The text of one prediction, uploaded once for the whole loop.
struct loop_text {
    svg_context *ctx = svg_context_new(true);
    svg_buffer *buf = nullptr;
    svg_tensor *embeds = nullptr, *pooled = nullptr;
    const hunyuan_text *text = nullptr;
    ~loop_text() {
        svg_buffer_free(buf);
        svg_context_free(ctx);
    }
    bool upload(svg_backend *be, const hunyuan_transformer &m, const hunyuan_text &t) {
        if (t.len < 1 || t.embeds.size() != (size_t)(t.len * m.text_dim) || t.mask.size() != (size_t)t.len || t.pooled.size() != (size_t)m.pooled_dim)
            return svg_err(false, "denoise: prompt embeddings must be [1, L, %lld] with an [L] mask and [%lld] pooled values", (long long)m.text_dim,
                           (long long)m.pooled_dim);
        text = &t;
        const int64_t ene[3] = {1, t.len, m.text_dim}, pne[2] = {1, m.pooled_dim};
        embeds = svg_set_name(svg_new_tensor(ctx, SVG_TYPE_F32, 3, ene), "prompt_embeds");
        pooled = svg_set_name(svg_new_tensor(ctx, SVG_TYPE_F32, 2, pne), "pooled_prompt_embeds");
        return embeds && pooled && (buf = svg_backend_alloc_ctx_tensors(ctx, be)) &&
               svg_tensor_set_f32(embeds, t.embeds.data(), (int64_t)t.embeds.size()) &&
               svg_tensor_set_f32(pooled, t.pooled.data(), (int64_t)t.pooled.size());
    }
};

}  // namespace

bool hunyuan_denoise(const hunyuan_transformer &m, svg_backend *be, hunyuan_denoise_inputs &in, const hunyuan_denoise_options &opt) {
    const std::vector<int64_t> &ls = in.latent_shape;
    if (ls.size() != 5 || ls[0] != 1 || ls[1] != m.out_channels || m.in_channels != m.out_channels)
        return svg_err(false, "denoise: latents must be [1, %lld, F, h, w]", (long long)m.out_channels);
    const size_t n = (size_t)(ls[1] * ls[2] * ls[3] * ls[4]);
    if (in.latents.size() != n) return svg_err(false, "denoise: %zu latent values for the shape's %zu", in.latents.size(), n);
    const bool cfg = opt.guidance > 1.0f;
    loop_text cond, uncond;
    if (!cond.upload(be, m, in.cond) || (cfg && !uncond.upload(be, m, in.uncond))) return false;
    svg_flow_sampler s;
    if (!s.init_euler_to_zero(opt.steps, opt.shift)) return false;
    if (opt.stats && opt.sparse.enabled) {
        const svg_sparse_layout l = hunyuan_sparse_layout(m, in.cond.len, ls[2], ls[3], ls[4], opt.sparse.density);
        opt.stats->band_density = svg_sparse_density(&l);
    }
    svg_gallocr *ga = svg_gallocr_new(be);
    auto forward = [&](const std::vector<float> &x, float t, const dit_sparse_attention &sparse, const loop_text &text, std::vector<float> *out) {
        svg_context *ctx = svg_context_new(true);
        svg_host_inputs host;
        const int64_t one = 1;
        svg_tensor *xt = host.add(ctx, 5, ls.data(), x, "latents");
        svg_tensor *tt = host.add(ctx, 1, &one, {t}, "timestep");
        svg_tensor *g = m.guidance_embeds ? host.add(ctx, 1, &one, {opt.embedded_guidance * 1000.0f}, "guidance") : nullptr;
        std::vector<svg_tensor *> kinds;
        dit_sparse_attention attn = sparse;
        if (opt.stats) attn.kinds = &kinds;
        svg_tensor *y = hunyuan_transformer_forward(ctx, m, xt, tt, text.embeds, text.text->mask, text.pooled, g, opt.act, &host, &attn);
        const bool ok = y && svg_compute_to_host(be, ga, ctx, y, host, out) &&
                        (!opt.stats || opt.stats->add(kinds, m.layers + m.single_layers, sparse.enabled));
        svg_context_free(ctx);
        return ok;
    };
    const bool ok = svg_denoise(s, in.latents, opt, [&](const std::vector<float> &x, float t, const dit_sparse_attention &sparse,
                                                      std::vector<float> *vc, std::vector<float> *vu) {
        return forward(x, t, sparse, cond, vc) && (!vu || forward(x, t, sparse, uncond, vu));
    });
    svg_gallocr_free(ga);
    return ok;
}

int hunyuan_template_crop(const svg_bpe_tokenizer &tok) {
    const std::string t = hunyuan_prompt_template;
    return (int)tok.encode(t.substr(0, t.find("{}")), true).size();
}

bool hunyuan_encode_llama(const svg_bpe_tokenizer &tok, const llama_model &te, svg_backend *be, const std::string &prompt, int max_len,
                          hunyuan_text *out, int *n_tokens) {
    std::string text = hunyuan_prompt_template;
    text.replace(text.find("{}"), 2, prompt);
    const int crop = hunyuan_template_crop(tok), total = crop + max_len;
    std::vector<int32_t> ids;
    std::vector<float> mask;
    int n_text = 0;
    if (!tokenize_padded(tok, text, total, &ids, &mask, &n_text) || !check_ids(ids, te.vocab, "the Llama text encoder")) return false;
    svg_context *ctx = svg_context_new(true);
    svg_host_inputs host;
    const int64_t ne[2] = {1, total};
    svg_tensor *idt = host.add_i32(ctx, 2, ne, ids, "input_ids");
    svg_tensor *mt = host.add(ctx, 2, ne, mask, "attention_mask");
    std::vector<float> all;
    if (!compute(be, ctx, idt && mt ? llama_forward(ctx, te, idt, mt, -3, &host) : nullptr, host, &all)) return false;
    out->len = max_len;
    out->embeds.assign(all.begin() + (ptrdiff_t)crop * te.hidden, all.end());
    out->mask.assign(mask.begin() + crop, mask.end());
    // the prompt's own tokens (as tokenized alone), as far as they were kept
    *n_tokens = std::min((int)tok.encode(prompt, false).size(), std::max(0, n_text - (crop - 1)));
    return true;
}

bool hunyuan_encode_clip(const svg_bpe_tokenizer &tok, const clip_text &te, svg_backend *be, const std::string &prompt, hunyuan_text *out) {
    const int len = (int)std::min<int64_t>(77, te.positions);
    std::vector<int32_t> ids;
    std::vector<float> mask;
    int n_text = 0;
    if (!tokenize_padded(tok, prompt, len, &ids, &mask, &n_text) || !check_ids(ids, te.vocab, "the CLIP text encoder")) return false;
    svg_context *ctx = svg_context_new(true);
    svg_host_inputs host;
    const clip_text_output o = clip_text_forward(ctx, te, ids.data(), 1, len, nullptr, &host);
    return compute(be, ctx, o.pooled, host, &out->pooled);
}

bool hunyuan_decode_latents(const hunyuan_vae &vae, svg_backend *be, const std::vector<float> &latents, const std::vector<int64_t> &shape,
                            vae_tensor *video, const vae_progress &progress) {
    vae_tensor z{shape, latents};
    for (float &v : z.data) v = (float)(v / vae.scaling_factor);
    return hunyuan_vae_decode(vae, be, z, true, video, progress);
}
