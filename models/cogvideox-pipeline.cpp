// CogVideoX 1.5 pipeline stages (models/cogvideox-pipeline.h), as diffusers'
// CogVideoXPipeline / CogVideoXImageToVideoPipeline.
#include "models/cogvideox-pipeline.h"

#include <cmath>
#include <cstring>

#include "src/svg-impl.h"

namespace {

// [1, F, C, h, w] host latents: the plane of frame f, channel c
size_t plane_at(const std::vector<int64_t> &s, int64_t f, int64_t c) { return (size_t)(((f * s[2]) + c) * s[3] * s[4]); }

// What stays the same over the loop, uploaded once: the text of every batch
// row ([uncond, cond] with guidance, else [cond]) and the I2V image latents
// repeated per row.
struct loop_constants {
    svg_context *ctx = svg_context_new(true);
    svg_buffer *buf = nullptr;
    svg_tensor *text = nullptr, *image = nullptr;
    ~loop_constants() {
        svg_buffer_free(buf);
        svg_context_free(ctx);
    }
    bool upload(svg_backend *be, const cogvideox_denoise_inputs &in, int64_t rows) {
        const std::vector<int64_t> &ts = in.text_shape, &ls = in.latent_shape;
        const int64_t tne[3] = {rows, ts[1], ts[2]};
        text = svg_set_name(svg_new_tensor(ctx, SVG_TYPE_F32, 3, tne), "text");
        if (!in.image_latents.empty()) {
            const int64_t ine[5] = {rows, ls[1], ls[2], ls[3], ls[4]};
            image = svg_set_name(svg_new_tensor(ctx, SVG_TYPE_F32, 5, ine), "image_latents");
        }
        if (!text || (!in.image_latents.empty() && !image) || !(buf = svg_backend_alloc_ctx_tensors(ctx, be))) return false;
        std::vector<float> t = rows == 2 ? in.uncond : in.cond;
        if (rows == 2) t.insert(t.end(), in.cond.begin(), in.cond.end());
        std::vector<float> im;
        for (int64_t r = 0; image && r < rows; r++) im.insert(im.end(), in.image_latents.begin(), in.image_latents.end());
        return svg_tensor_set_f32(text, t.data(), (int64_t)t.size()) && (!image || svg_tensor_set_f32(image, im.data(), (int64_t)im.size()));
    }
};

}  // namespace

bool cogvideox_scheduler_from_file(const svg_gguf *f, svg_ddpm_sampler::kind_t *kind, svg_ddpm_config *cfg) {
    const char *cls = svg_gguf_get_string(f, "svg.scheduler._class_name");
    const std::string name = cls ? cls : "CogVideoXDDIMScheduler";
    if (name != "CogVideoXDDIMScheduler" && name != "CogVideoXDPMScheduler")
        return svg_err(false, "scheduler '%s' is not CogVideoXDDIMScheduler or CogVideoXDPMScheduler", name.c_str());
    *kind = name == "CogVideoXDPMScheduler" ? svg_ddpm_sampler::DPM : svg_ddpm_sampler::DDIM;
    auto get_int = [&](const char *k, int *v) {
        int64_t x;
        if (svg_gguf_get_int(f, (std::string("svg.scheduler.") + k).c_str(), &x)) *v = (int)x;
    };
    auto get_float = [&](const char *k, double *v) { svg_gguf_get_float(f, (std::string("svg.scheduler.") + k).c_str(), v); };
    auto get_string = [&](const char *k, std::string *v) {
        const char *s = svg_gguf_get_string(f, (std::string("svg.scheduler.") + k).c_str());
        if (s) *v = s;
    };
    auto get_bool = [&](const char *k, bool *v) {
        const int64_t i = svg_gguf_find_key(f, (std::string("svg.scheduler.") + k).c_str());
        if (i >= 0 && svg_gguf_kv_type(f, i) == SVG_GGUF_BOOL) *v = svg_gguf_get_bool(f, i);
    };
    get_int("num_train_timesteps", &cfg->num_train_timesteps);
    get_float("beta_start", &cfg->beta_start);
    get_float("beta_end", &cfg->beta_end);
    get_string("beta_schedule", &cfg->beta_schedule);
    get_string("prediction_type", &cfg->prediction_type);
    get_string("timestep_spacing", &cfg->timestep_spacing);
    get_bool("rescale_betas_zero_snr", &cfg->rescale_betas_zero_snr);
    get_bool("set_alpha_to_one", &cfg->set_alpha_to_one);
    get_float("snr_shift_scale", &cfg->snr_shift_scale);
    get_int("steps_offset", &cfg->steps_offset);
    bool clip = false;
    get_bool("clip_sample", &clip);
    if (clip) return svg_err(false, "scheduler: clip_sample is not supported (no CogVideoX release sets it)");
    return true;
}

cogvideox_frames cogvideox_latent_frames(int64_t patch_t, int64_t num_frames, int64_t temporal_ratio) {
    cogvideox_frames r;
    r.latent = (num_frames - 1) / temporal_ratio + 1;
    if (patch_t > 1 && r.latent % patch_t) r.padding = patch_t - r.latent % patch_t;
    return r;
}

bool cogvideox_denoise(const cogvideox_transformer &m, svg_backend *be, cogvideox_denoise_inputs &in, const cogvideox_denoise_options &opt) {
    const std::vector<int64_t> &ls = in.latent_shape;
    if (ls.size() != 5 || ls[0] != 1 || ls[2] != m.out_channels)
        return svg_err(false, "denoise: latents must be [1, F, %lld, h, w]", (long long)m.out_channels);
    const size_t n = (size_t)(ls[1] * ls[2] * ls[3] * ls[4]);
    if (in.latents.size() != n) return svg_err(false, "denoise: %zu latent values for the shape's %zu", in.latents.size(), n);
    const bool cfg = opt.guidance > 1.0f;
    if (in.text_shape.size() != 3 || in.text_shape[0] != 1 || in.cond.size() != (size_t)(in.text_shape[1] * in.text_shape[2]))
        return svg_err(false, "denoise: prompt embeddings must be [1, L, D] with their values");
    if (cfg && in.uncond.size() != in.cond.size()) return svg_err(false, "denoise: negative prompt embeddings missing or of another size");
    const bool i2v = m.in_channels == 2 * m.out_channels;
    if (i2v != !in.image_latents.empty() || (i2v && in.image_latents.size() != n))
        return svg_err(false, "denoise: the transformer takes %lld channels: %s", (long long)m.in_channels,
                       i2v ? "image latents of the latents' shape are needed" : "no image latents");
    svg_ddpm_sampler s;
    if (!s.init(opt.sampler, opt.steps, opt.schedule, opt.seed)) return false;
    const int64_t rows = cfg ? 2 : 1;
    loop_constants k;
    if (!k.upload(be, in, rows)) return false;
    if (opt.stats && opt.sparse.enabled) {
        const svg_sparse_layout l = cogvideox_sparse_layout(m, in.text_shape[1], ls[1], ls[3], ls[4], opt.sparse.density);
        opt.stats->band_density = svg_sparse_density(&l);
    }
    svg_gallocr *ga = svg_gallocr_new(be);
    // one forward of [uncond, cond] (CogVideoXPipeline's batch), the I2V
    // image latents appended on channels, ofs = 2.0 where the model has it
    std::vector<float> out;
    const bool ok = svg_denoise(s, in.latents, opt, [&](const std::vector<float> &x, float t, const dit_sparse_attention &sparse,
                                                      std::vector<float> *vc, std::vector<float> *vu) {
        svg_context *ctx = svg_context_new(true);
        svg_host_inputs host;
        std::vector<float> xs = x;
        if (rows == 2) xs.insert(xs.end(), x.begin(), x.end());
        const int64_t xne[5] = {rows, ls[1], ls[2], ls[3], ls[4]};
        svg_tensor *xt = host.add(ctx, 5, xne, std::move(xs), "latents");
        if (k.image) xt = svg_concat(ctx, xt, k.image, 2);
        svg_tensor *tt = host.add(ctx, 1, &rows, std::vector<float>((size_t)rows, t), "timestep");
        svg_tensor *ofs = m.ofs_dim ? host.add(ctx, 1, &rows, std::vector<float>((size_t)rows, 2.0f), "ofs") : nullptr;
        std::vector<svg_tensor *> kinds;
        dit_sparse_attention attn = sparse;
        if (opt.stats) attn.kinds = &kinds;
        svg_tensor *y = cogvideox_transformer_forward(ctx, m, xt, tt, k.text, ofs, opt.act, &host, &attn);
        bool good = y && svg_compute_to_host(be, ga, ctx, y, host, &out) && (!opt.stats || opt.stats->add(kinds, m.layers, sparse.enabled));
        svg_context_free(ctx);
        if (!good) return false;
        if (out.size() != (size_t)rows * n) return svg_err(false, "denoise: the transformer predicted %zu values for %zu", out.size(), (size_t)rows * n);
        if (vu) vu->assign(out.begin(), out.begin() + (ptrdiff_t)n);
        vc->assign(out.end() - (ptrdiff_t)n, out.end());
        return true;
    });
    svg_gallocr_free(ga);
    return ok;
}

bool cogvideox_encode_prompt(const svg_tokenizer &tok, const umt5_encoder &te, svg_backend *be, const std::string &prompt, int max_len,
                             std::vector<float> *emb, int *n_tokens) {
    if (!tok.loaded()) return svg_err(false, "prompt encoding: no tokenizer");
    const svg_tokenizer::padded p = tok.encode_padded(prompt, max_len);
    if (p.n_tokens <= 0 || (int)p.ids.size() != max_len) return svg_err(false, "prompt encoding: tokenizer produced no tokens");
    for (int32_t id : p.ids)
        if (id < 0 || id >= te.vocab)
            return svg_err(false, "prompt encoding: token id %d outside the text encoder's vocabulary of %lld (tokenizer and encoder do not match)",
                           id, (long long)te.vocab);
    svg_context *ctx = svg_context_new(true);
    svg_host_inputs host;
    const int64_t ne[2] = {1, (int64_t)max_len};
    svg_tensor *idt = host.add_i32(ctx, 2, ne, p.ids, "input_ids");
    svg_tensor *y = idt ? umt5_forward(ctx, te, idt, nullptr, &host) : nullptr;
    svg_gallocr *ga = svg_gallocr_new(be);
    const bool ok = y && svg_compute_to_host(be, ga, ctx, y, host, emb);
    svg_gallocr_free(ga);
    svg_context_free(ctx);
    *n_tokens = p.n_tokens;
    return ok;
}

bool cogvideox_image_latents(const cogvideox_vae &vae, svg_backend *be, const std::vector<float> &image, int height, int width,
                             int64_t frames, uint64_t seed, std::vector<float> *latents) {
    if (image.size() != (size_t)3 * height * width) return svg_err(false, "i2v: image has %zu values, expected 3x%dx%d", image.size(), height, width);
    vae_tensor video{{1, 3, 1, height, width}, image}, mean, logvar;
    if (!cogvideox_vae_encode(vae, be, video, &mean, &logvar)) return false;
    const int64_t C = mean.shape[1], h = mean.shape[3], w = mean.shape[4];
    if (frames < 1) return svg_err(false, "i2v: %lld latent frames", (long long)frames);
    const std::vector<float> eps = svg_noise(mean.data.size(), seed);
    const double s = vae.invert_scale_latents ? 1.0 / vae.scaling_factor : vae.scaling_factor;
    // [1, C, 1, h, w] → frame 0 of [1, frames, C, h, w]; the other frames stay zero
    latents->assign((size_t)(frames * C * h * w), 0.0f);
    for (size_t i = 0; i < mean.data.size(); i++)
        (*latents)[i] = (float)(s * (mean.data[i] + std::exp(0.5f * logvar.data[i]) * eps[i]));
    return true;
}

bool cogvideox_decode_latents(const cogvideox_vae &vae, svg_backend *be, const std::vector<float> &latents, const std::vector<int64_t> &s,
                              int64_t skip, bool tiled, vae_tensor *video, const vae_progress &progress) {
    if (s.size() != 5 || s[0] != 1 || s[2] != vae.z_dim || skip < 0 || skip >= s[1] ||
        latents.size() != (size_t)(s[1] * s[2] * s[3] * s[4]))
        return svg_err(false, "decode: latents must be [1, F, %lld, h, w] with their values (and fewer than F frames skipped)",
                       (long long)vae.z_dim);
    // [1, F, C, h, w] → [1, C, F − skip, h, w], divided by the scaling factor
    const int64_t F = s[1] - skip, C = s[2], hw = s[3] * s[4];
    vae_tensor z{{1, C, F, s[3], s[4]}, std::vector<float>((size_t)(C * F * hw))};
    const float inv = (float)(1.0 / vae.scaling_factor);
    for (int64_t f = 0; f < F; f++)
        for (int64_t c = 0; c < C; c++)
            for (int64_t q = 0; q < hw; q++) z.data[(size_t)((c * F + f) * hw + q)] = latents[plane_at(s, f + skip, c) + (size_t)q] * inv;
    return cogvideox_vae_decode(vae, be, z, tiled, video, progress);
}
