// HunyuanVideo pipeline stages (models/hunyuan-pipeline.h), as diffusers'
// HunyuanVideoPipeline.
#include "models/hunyuan-pipeline.h"

#include "src/svg-impl.h"

namespace {

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
