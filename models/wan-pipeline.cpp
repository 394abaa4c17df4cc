// Wan 2.1 denoising loop (models/wan-pipeline.h), as diffusers' WanPipeline /
// WanImageToVideoPipeline: for each timestep, v = v_uncond + g·(v_cond −
// v_uncond) from two transformer forwards (I2V: the latents concatenated
// with the mask + image-latent condition along channels), then one sampler
// step.
#include "models/wan-pipeline.h"

#include <cmath>

#include "src/svg-impl.h"

namespace {

// What stays the same over the whole loop — prompt and negative prompt
// embeddings, the I2V condition and CLIP tokens — uploaded to the backend
// once; every forward's graph reads them like weights.
struct loop_constants {
    svg_context *ctx = svg_context_new(true);
    svg_buffer *buf = nullptr;
    svg_tensor *cond = nullptr, *uncond = nullptr, *condition = nullptr, *image = nullptr;
    ~loop_constants() {
        svg_buffer_free(buf);
        svg_context_free(ctx);
    }
    bool upload(svg_backend *be, const wan_denoise_inputs &in, bool cfg) {
        auto make = [&](const std::vector<int64_t> &shape, const char *name) {
            return svg_set_name(svg_new_tensor(ctx, SVG_TYPE_F32, (int)shape.size(), shape.data()), name);
        };
        cond = make(in.text_shape, "cond");
        if (cfg) uncond = make(in.text_shape, "uncond");
        if (!in.condition.empty()) condition = make(in.condition_shape, "condition");
        if (!in.image.empty()) image = make(in.image_shape, "image");
        if (!cond || (cfg && !uncond) || (!in.condition.empty() && !condition) || (!in.image.empty() && !image)) return false;
        buf = svg_backend_alloc_ctx_tensors(ctx, be);
        if (!buf) return false;
        auto set = [](svg_tensor *t, const std::vector<float> &v) { return !t || svg_tensor_set_f32(t, v.data(), (int64_t)v.size()); };
        return set(cond, in.cond) && set(uncond, in.uncond) && set(condition, in.condition) && set(image, in.image);
    }
};

// One transformer forward: the host latents at timestep t with text embeddings `text`.
// With stats, the sparse blocks' head decisions are read back and counted.
bool forward(const wan_transformer &m, svg_backend *be, svg_gallocr *ga, const wan_denoise_inputs &in, const std::vector<float> &latents,
             const loop_constants &k, svg_tensor *text, float t, enum svg_type act, const dit_sparse_attention &sparse,
             std::vector<float> *v, dit_sparse_stats *stats) {
    svg_context *ctx = svg_context_new(true);
    svg_host_inputs host;
    svg_tensor *x = host.add(ctx, (int)in.latent_shape.size(), in.latent_shape.data(), latents, "latents");
    if (k.condition) x = svg_concat(ctx, x, k.condition, 1);
    const int64_t B = in.latent_shape[0];
    svg_tensor *tt = host.add(ctx, 1, &B, std::vector<float>((size_t)B, t), "timestep");
    std::vector<svg_tensor *> kinds;
    dit_sparse_attention attn = sparse;
    if (stats) attn.kinds = &kinds;
    svg_tensor *y = wan_transformer_forward(ctx, m, x, tt, text, k.image, act, &host, &attn);
    const bool ok = y && svg_compute_to_host(be, ga, ctx, y, host, v) && (!stats || stats->add(kinds, m.layers, sparse.enabled));
    svg_context_free(ctx);
    return ok;
}

}  // namespace

bool wan_denoise(const wan_transformer &m, svg_backend *be, wan_denoise_inputs &in, const wan_denoise_options &opt) {
    svg_flow_sampler s;
    if (!s.init(opt.sampler, opt.steps, opt.shift)) return false;
    const bool cfg = opt.guidance > 1.0f;
    if (cfg && in.uncond.size() != in.cond.size()) return svg_err(false, "denoise: negative prompt embeddings missing or of another size");
    loop_constants k;
    if (!k.upload(be, in, cfg)) return false;
    if (opt.stats && opt.sparse.enabled) {
        const std::vector<int64_t> &ls = in.latent_shape;
        const svg_sparse_layout l = wan_sparse_layout(m, ls[2], ls[3], ls[4], opt.sparse.density);
        opt.stats->band_density = svg_sparse_density(&l);
    }
    svg_gallocr *ga = svg_gallocr_new(be);
    // cond and uncond as two forwards of batch 1 (WanPipeline's order: cond first)
    const bool ok = svg_denoise(s, in.latents, opt, [&](const std::vector<float> &x, float t, const dit_sparse_attention &sparse,
                                                      std::vector<float> *vc, std::vector<float> *vu) {
        return forward(m, be, ga, in, x, k, k.cond, t, opt.act, sparse, vc, opt.stats) &&
               (!vu || forward(m, be, ga, in, x, k, k.uncond, t, opt.act, sparse, vu, opt.stats));
    });
    svg_gallocr_free(ga);
    return ok;
}

bool wan_encode_prompt(const svg_tokenizer &tok, const umt5_encoder &te, svg_backend *be, const std::string &prompt, int max_len,
                       std::vector<float> *emb, int *n_tokens) {
    if (!tok.loaded()) return svg_err(false, "prompt encoding: no tokenizer");
    const svg_tokenizer::padded p = tok.encode_padded(svg_prompt_clean(prompt), max_len);
    if (p.n_tokens <= 0) return svg_err(false, "prompt encoding: tokenizer produced no tokens");
    std::vector<int32_t> ids(p.ids.begin(), p.ids.begin() + p.n_tokens);
    for (int32_t id : ids)
        if (id < 0 || id >= te.vocab)
            return svg_err(false, "prompt encoding: token id %d outside the text encoder's vocabulary of %lld (tokenizer and encoder do not match)",
                           id, (long long)te.vocab);
    svg_context *ctx = svg_context_new(true);
    svg_host_inputs host;
    const int64_t ne[2] = {1, (int64_t)ids.size()};
    svg_tensor *idt = host.add_i32(ctx, 2, ne, ids, "input_ids");
    svg_tensor *y = idt ? umt5_forward(ctx, te, idt, nullptr, &host) : nullptr;
    svg_gallocr *ga = svg_gallocr_new(be);
    std::vector<float> real;
    const bool ok = y && svg_compute_to_host(be, ga, ctx, y, host, &real);
    svg_gallocr_free(ga);
    svg_context_free(ctx);
    if (!ok) return false;
    emb->assign((size_t)max_len * te.d_model, 0.0f);
    std::copy(real.begin(), real.end(), emb->begin());
    *n_tokens = (int)ids.size();
    return true;
}

bool wan_i2v_condition(const wan_vae &vae, svg_backend *be, const std::vector<float> &image, int height, int width, int num_frames,
                       std::vector<float> *condition, std::vector<int64_t> *shape) {
    const size_t plane = (size_t)height * width;
    if (image.size() != 3 * plane) return svg_err(false, "i2v: image has %zu values, expected 3x%dx%d", image.size(), height, width);
    vae_tensor video;
    video.shape = {1, 3, num_frames, height, width};
    video.data.assign(3 * (size_t)num_frames * plane, 0.0f);
    for (int c = 0; c < 3; c++) std::copy(image.begin() + c * plane, image.begin() + (c + 1) * plane, video.data.begin() + (size_t)c * num_frames * plane);
    vae_tensor mean, logvar;
    if (!wan_vae_encode(vae, be, video, &mean, &logvar) || !wan_vae_normalize(vae, &mean)) return false;
    const int64_t zc = mean.shape[1], T = mean.shape[2], h = mean.shape[3], w = mean.shape[4];
    const size_t lplane = (size_t)(h * w);
    *shape = {1, 4 + zc, T, h, w};
    condition->assign((size_t)(4 + zc) * T * lplane, 0.0f);
    for (int c = 0; c < 4; c++) std::fill_n(condition->begin() + (size_t)c * T * lplane, lplane, 1.0f);  // latent frame 0
    std::copy(mean.data.begin(), mean.data.end(), condition->begin() + 4 * (size_t)T * lplane);
    return true;
}
