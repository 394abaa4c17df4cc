// Wan 2.1 VAE (diffusers AutoencoderKLWan), built from svg.h ops one chunk at
// a time with the reference's feature cache (models/wan-vae.h says why).
// Module names follow diffusers, so the builder reads like the reference:
//   decoder: post_quant_conv → conv_in → mid block (res, attention, res) →
//            up blocks (res ×(n+1), resample ×2) → RMS norm, SiLU, conv_out
//   encoder: conv_in → down blocks (res ×n, resample /2) → mid block →
//            RMS norm, SiLU, conv_out → quant_conv
#include "models/wan-vae.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "src/svg-impl.h"

namespace {

using T = svg_tensor;

// Frames every cached causal convolution (3 taps in time) carries to the
// next chunk: the reference's CACHE_T.
constexpr int64_t k_cache_t = 2;
// Video frames per encoder chunk after the first one-frame chunk (fixed in
// the reference as well).
constexpr int64_t k_enc_chunk = 4;

struct builder {
    svg_context *ctx;
    const wan_vae &m;
    vae_frame_cache *cache;

    T *W(const std::string &name) const { return m.w.get(name); }

    // conv3d with module p's weights (vae_conv: Conv2d kernels per frame)
    T *conv(T *x, const std::string &p, const int stride[3], const int pad[6]) const {
        return vae_conv(ctx, x, W(p + ".weight"), W(p + ".bias"), stride, pad);
    }

    T *pointwise(T *x, const std::string &p) const {
        const int stride[3] = {1, 1, 1}, pad[6] = {0, 0, 0, 0, 0, 0};
        return conv(x, p, stride, pad);
    }

    // WanCausalConv3d: the input continues the last k_cache_t input frames
    // of the previous chunk (zeros before the first), which replace the
    // causal temporal padding; space is padded symmetrically.
    T *causal_conv(T *x, const std::string &p) const {
        T *w = W(p + ".weight");
        if (!x || !w) return nullptr;
        T *old = cache->frames(p);
        const int64_t zeros_before[5] = {0, 0, k_cache_t, 0, 0};
        T *stream = old ? svg_concat(ctx, old, x, 2) : svg_pad(ctx, x, zeros_before, nullptr, SVG_PAD_CONSTANT, 0.f);
        stream = cache->keep(ctx, p, stream, k_cache_t);
        const int ph = (int)(w->ne[3] / 2), pw = (int)(w->ne[4] / 2);
        const int stride[3] = {1, 1, 1}, pad[6] = {0, 0, ph, ph, pw, pw};
        return conv(stream, p, stride, pad);
    }

    // WanRMS_norm over channels: F.normalize(x, dim=1)·sqrt(C)·gamma, i.e.
    // x / max(rms(x), 1e-12/sqrt(C))·gamma. An RMS norm with eps = 1e-24/C
    // gives the same up to rounding (they differ only for rms near 1e-12).
    T *rms(T *x, const std::string &p) const {
        if (!x) return nullptr;
        return svg_norm_ext(ctx, x, SVG_NORM_RMS, 1, 1, 1e-24f / (float)x->ne[1], W(p + ".gamma"), nullptr, nullptr,
                            nullptr);
    }

    T *resblock(T *x, const std::string &p) const {
        T *w1 = W(p + ".conv1.weight");
        if (!x || !w1) return nullptr;
        T *h = w1->ne[0] != x->ne[1] ? pointwise(x, p + ".conv_shortcut") : x;
        T *y = causal_conv(svg_silu(ctx, rms(x, p + ".norm1")), p + ".conv1");
        y = causal_conv(svg_silu(ctx, rms(y, p + ".norm2")), p + ".conv2");
        return svg_add(ctx, y, h);
    }

    // WanAttentionBlock: single-head self-attention among the H×W positions
    // of each frame, with 1×1-conv projections (linears over channels). One
    // head as wide as the channels (384 in Wan) over a few thousand positions:
    // written as two GEMMs around a softmax, S = q·kᵀ/√C, O = softmax(S)·v
    // (the attention op's kernels are built for heads of ≤ 256 dims).
    T *attention(T *x, const std::string &p) const {
        T *wqkv = W(p + ".to_qkv.weight"), *wo = W(p + ".proj.weight");
        if (!x || !wqkv || !wo) return nullptr;
        const int64_t B = x->ne[0], C = x->ne[1], F = x->ne[2], H = x->ne[3], Wd = x->ne[4];
        const int to_last[5] = {0, 2, 3, 4, 1}, to_second[5] = {0, 4, 1, 2, 3};
        T *t = svg_cont(ctx, svg_permute(ctx, rms(x, p + ".norm"), to_last));  // [B, F, H, W, C]
        T *qkv = svg_linear(ctx, svg_reshape_3d(ctx, t, B * F, H * Wd, C), svg_reshape_2d(ctx, wqkv, 3 * C, C),
                            W(p + ".to_qkv.bias"));
        T *q = svg_cont(ctx, svg_slice(ctx, qkv, 2, 0, C, 1)), *k = svg_cont(ctx, svg_slice(ctx, qkv, 2, C, 2 * C, 1));
        const int swap[3] = {0, 2, 1};
        T *vt = svg_cont(ctx, svg_permute(ctx, svg_slice(ctx, qkv, 2, 2 * C, 3 * C, 1), swap));  // [B·F, C, H·W]
        T *attn = svg_softmax(ctx, svg_scale(ctx, svg_mul_mat(ctx, q, k), 1.0f / std::sqrt((float)C), 0.f));
        T *o = svg_mul_mat(ctx, attn, vt);  // [B·F, H·W, C]
        const int64_t ne[5] = {B, F, H, Wd, C};
        o = svg_linear(ctx, svg_reshape(ctx, o, 5, ne), svg_reshape_2d(ctx, wo, C, C), W(p + ".proj.bias"));
        return svg_add(ctx, x, svg_cont(ctx, svg_permute(ctx, o, to_second)));
    }

    T *mid_block(T *x, const std::string &p) const {
        x = resblock(x, p + ".resnets.0");
        x = attention(x, p + ".attentions.0");
        return resblock(x, p + ".resnets.1");
    }

    T *head(T *x, const std::string &p) const {
        return causal_conv(svg_silu(ctx, rms(x, p + ".norm_out")), p + ".conv_out");
    }

    // WanResample upsample2d / upsample3d. In 3D, time_conv first turns each
    // frame into two (its output channel halves, interleaved in time); the
    // reference skips it in the first chunk and starts it, zero-padded, at
    // the second. Then ×2 nearest in H and W ("nearest-exact" is the same for
    // a factor of 2) and a 3×3 conv per frame.
    T *upsample(T *x, const std::string &p, bool temporal) const {
        if (!x) return nullptr;
        if (temporal && cache->chunks_done() > 0) {
            const int64_t B = x->ne[0], C = x->ne[1], F = x->ne[2], H = x->ne[3], Wd = x->ne[4];
            const int64_t halves[6] = {B, 2, C, F, H, Wd}, doubled[5] = {B, C, 2 * F, H, Wd};
            const int interleave[6] = {0, 2, 3, 1, 4, 5};  // [B, C, F, 2, H, W]
            T *y = svg_reshape(ctx, causal_conv(x, p + ".time_conv"), 6, halves);
            x = svg_reshape(ctx, svg_cont(ctx, svg_permute(ctx, y, interleave)), 5, doubled);
        }
        const int factors[2] = {2, 2};
        const int stride[3] = {1, 1, 1}, pad[6] = {0, 0, 1, 1, 1, 1};
        return conv(svg_upsample_nearest(ctx, x, 2, factors), p + ".resample.1", stride, pad);
    }

    // WanResample downsample2d / downsample3d: zero padding of one row and
    // column at the end, a 3×3 conv of stride 2 per frame. In 3D, time_conv
    // (stride 2, no padding) then runs over the previous chunk's last frame
    // and this chunk's; the first chunk only leaves its last frame.
    T *downsample(T *x, const std::string &p, bool temporal) const {
        const int stride[3] = {1, 2, 2}, pad[6] = {0, 0, 0, 1, 0, 1};
        x = conv(x, p + ".resample.1", stride, pad);
        if (!temporal || !x) return x;
        const std::string key = p + ".time_conv";
        T *old = cache->frames(key);
        T *stream = cache->keep(ctx, key, old ? svg_concat(ctx, old, x, 2) : x, 1);
        if (!old) return stream;
        const int t_stride[3] = {2, 1, 1}, t_pad[6] = {0, 0, 0, 0, 0, 0};
        return conv(stream, key, t_stride, t_pad);
    }
};

// The decoder over every latent frame, one per chunk, unclamped.
bool decode_frames(const wan_vae &m, svg_backend *be, const vae_tensor &z, vae_tensor *out, const std::function<bool()> &chunk_done = {}) {
    std::vector<int64_t> bounds;
    for (int64_t t = 0; t <= z.shape[2]; t++) bounds.push_back(t);
    return vae_run_chunks(
        be, z, bounds, [&](svg_context *ctx, svg_tensor *x, vae_frame_cache *cache) { return wan_vae_decode_chunk(ctx, m, x, cache); }, out,
        "wan vae", chunk_done);
}

// Reading svg.vae.* arrays model-file.h has no getter for.
bool find_array(const svg_component_config &c, const char *key, enum svg_gguf_type type, int64_t *index) {
    const std::string k = "svg." + c.component + "." + key;
    *index = svg_gguf_find_key(c.file, k.c_str());
    if (*index < 0 || svg_gguf_kv_type(c.file, *index) != SVG_GGUF_ARRAY || svg_gguf_arr_type(c.file, *index) != type)
        return svg_err(false, "model file: %s missing or not an array of %s", k.c_str(),
                       type == SVG_GGUF_BOOL ? "booleans" : "floats");
    return true;
}

bool get_floats(const svg_component_config &c, const char *key, std::vector<float> *out) {
    int64_t i;
    if (!find_array(c, key, SVG_GGUF_FLOAT32, &i)) return false;
    const float *d = (const float *)svg_gguf_arr_data(c.file, i);
    out->assign(d, d + svg_gguf_arr_n(c.file, i));
    return true;
}

bool get_bools(const svg_component_config &c, const char *key, std::vector<bool> *out) {
    int64_t i;
    if (!find_array(c, key, SVG_GGUF_BOOL, &i)) return false;
    const uint8_t *d = (const uint8_t *)svg_gguf_arr_data(c.file, i);
    out->assign(d, d + svg_gguf_arr_n(c.file, i));
    return true;
}

bool check_shape(const wan_vae &m, const std::string &name, std::vector<int64_t> want) {
    const T *t = m.w.get(name);
    if (!t) return false;
    if (std::vector<int64_t>(t->ne, t->ne + t->n_dims) != want)
        return svg_err(false, "vae: %s is %s, the config says %lld x %lld x ...", name.c_str(),
                       svg_shape_string(t).c_str(), (long long)want[0], (long long)want[1]);
    return true;
}

}  // namespace

// ------------------------------------------------------------ graphs

svg_tensor *wan_vae_decode_chunk(svg_context *ctx, const wan_vae &m, svg_tensor *z, vae_frame_cache *cache) {
    builder b{ctx, m, cache};
    T *x = b.causal_conv(b.pointwise(z, "post_quant_conv"), "decoder.conv_in");
    x = b.mid_block(x, "decoder.mid_block");
    const size_t n = m.temporal_down.size() + 1;  // stages
    for (size_t i = 0; i < n; i++) {
        const std::string p = "decoder.up_blocks." + std::to_string(i);
        for (int64_t r = 0; r <= m.num_res_blocks; r++) x = b.resblock(x, p + ".resnets." + std::to_string(r));
        // the decoder's stages mirror the encoder's: temperal_upsample is temperal_downsample reversed
        if (i + 1 < n) x = b.upsample(x, p + ".upsamplers.0", m.temporal_down[n - 2 - i]);
    }
    return b.head(x, "decoder");
}

svg_tensor *wan_vae_encode_chunk(svg_context *ctx, const wan_vae &m, svg_tensor *x, vae_frame_cache *cache) {
    builder b{ctx, m, cache};
    x = b.causal_conv(x, "encoder.conv_in");
    const size_t n = m.temporal_down.size() + 1;
    int64_t k = 0;  // down_blocks is one flat list of res blocks and resamplers
    for (size_t i = 0; i < n; i++) {
        for (int64_t r = 0; r < m.num_res_blocks; r++) x = b.resblock(x, "encoder.down_blocks." + std::to_string(k++));
        if (i + 1 < n) x = b.downsample(x, "encoder.down_blocks." + std::to_string(k++), m.temporal_down[i]);
    }
    x = b.mid_block(x, "encoder.mid_block");
    return b.pointwise(b.head(x, "encoder"), "quant_conv");
}

// ------------------------------------------------------------ API

bool wan_vae_load(const svg_gguf *f, svg_backend *be, wan_vae *m) {
    svg_component_config c;
    if (!svg_component_config_open(f, "vae", &c)) return false;
    if (c.cls != "AutoencoderKLWan") return svg_err(false, "vae class '%s' is not AutoencoderKLWan", c.cls.c_str());
    int64_t base;
    std::vector<int64_t> mult;
    if (!c.get_int("base_dim", &base) || !c.get_int("z_dim", &m->z_dim) || !c.get_ints("dim_mult", &mult) ||
        !c.get_int("num_res_blocks", &m->num_res_blocks) || !get_bools(c, "temperal_downsample", &m->temporal_down) ||
        !get_floats(c, "latents_mean", &m->latents_mean) || !get_floats(c, "latents_std", &m->latents_std))
        return false;
    if (c.bool_or("is_residual", false) || c.has("patch_size"))
        return svg_err(false, "vae: the Wan 2.2 VAE (is_residual, patch_size) is not supported");
    const int64_t attn = svg_gguf_find_key(f, "svg.vae.attn_scales");
    if (attn >= 0 && (svg_gguf_kv_type(f, attn) != SVG_GGUF_ARRAY || svg_gguf_arr_n(f, attn) != 0))
        return svg_err(false, "vae: attn_scales (encoder attention blocks) are not supported; the Wan releases have none");
    const int64_t dec_base = c.int_or("decoder_base_dim", base);
    m->in_channels = c.int_or("in_channels", 3);
    m->out_channels = c.int_or("out_channels", 3);
    const size_t n = mult.size();
    if (base < 1 || dec_base < 1 || m->z_dim < 1 || m->num_res_blocks < 1 || n < 1 || m->in_channels < 1 ||
        m->out_channels < 1 || std::any_of(mult.begin(), mult.end(), [](int64_t v) { return v < 1; }))
        return svg_err(false, "vae: base_dim, z_dim, num_res_blocks, dim_mult and the channel counts must be positive");
    if (m->temporal_down.size() + 1 != n)
        return svg_err(false, "vae: temperal_downsample has %zu entries, dim_mult %zu (expected one fewer)",
                       m->temporal_down.size(), n);
    if ((int64_t)m->latents_mean.size() != m->z_dim || (int64_t)m->latents_std.size() != m->z_dim)
        return svg_err(false, "vae: latents_mean/latents_std need z_dim = %lld entries", (long long)m->z_dim);
    m->spatial_factor = (int64_t)1 << (n - 1);
    if (c.int_or("scale_factor_spatial", m->spatial_factor) != m->spatial_factor)
        return svg_err(false, "vae: scale_factor_spatial %lld, but %zu stages downsample by %lld",
                       (long long)c.int_or("scale_factor_spatial", 0), n, (long long)m->spatial_factor);
    if (!svg_component_weights_load(f, "vae", be, &m->w)) return false;
    // the shapes the graphs start and end with; the rest follow from the weights
    return check_shape(*m, "encoder.conv_in.weight", {base * 1, m->in_channels, 3, 3, 3}) &&
           check_shape(*m, "encoder.conv_out.weight", {2 * m->z_dim, base * mult[n - 1], 3, 3, 3}) &&
           check_shape(*m, "decoder.conv_in.weight", {dec_base * mult[n - 1], m->z_dim, 3, 3, 3}) &&
           check_shape(*m, "decoder.conv_out.weight", {m->out_channels, dec_base * mult[0], 3, 3, 3});
}

bool wan_vae_decode(const wan_vae &m, svg_backend *be, const vae_tensor &z, vae_tensor *video, const vae_progress &progress) {
    if (!vae_check_video(z, m.z_dim, "z")) return false;
    int64_t done = 0;
    const std::function<bool()> chunk_done = [&] { return progress(++done, z.shape[2]); };
    if (!decode_frames(m, be, z, video, progress ? chunk_done : std::function<bool()>())) return false;
    vae_clamp(&video->data, -1.f, 1.f);
    return true;
}

bool wan_vae_decode_tiled(const wan_vae &m, svg_backend *be, const vae_tensor &z, const vae_tiling &tiling, vae_tensor *video,
                          const vae_progress &progress) {
    if (!vae_check_video(z, m.z_dim, "z")) return false;
    const vae_decode_fn decode = [&](const vae_tensor &tile, vae_tensor *out, const std::function<bool()> &chunk_done) {
        return decode_frames(m, be, tile, out, chunk_done);
    };
    if (!vae_decode_tiled(z, m.spatial_factor, tiling, z.shape[2], decode, video, progress)) return false;
    vae_clamp(&video->data, -1.f, 1.f);
    return true;
}

bool wan_vae_encode(const wan_vae &m, svg_backend *be, const vae_tensor &video, vae_tensor *mean, vae_tensor *logvar) {
    if (!vae_check_video(video, m.in_channels, "video")) return false;
    std::vector<int64_t> bounds = {0};
    for (int64_t t = 1; t <= video.shape[2]; t += k_enc_chunk) bounds.push_back(t);
    vae_tensor h;
    if (!vae_run_chunks(
            be, video, bounds, [&](svg_context *ctx, svg_tensor *x, vae_frame_cache *cache) { return wan_vae_encode_chunk(ctx, m, x, cache); },
            &h, "wan vae"))
        return false;
    vae_split_moments(h, mean, logvar);
    return true;
}

namespace {

// fn(value, channel) on every value of z [B, z_dim, T, h, w]
template <typename Fn>
bool per_channel(const wan_vae &m, vae_tensor *z, Fn fn) {
    if (!vae_check_video(*z, m.z_dim, "latents")) return false;
    const size_t plane = z->data.size() / (size_t)(z->shape[0] * m.z_dim);
    for (size_t i = 0; i < z->data.size(); i++) fn(&z->data[i], (i / plane) % (size_t)m.z_dim);
    return true;
}

}  // namespace

bool wan_vae_denormalize(const wan_vae &m, vae_tensor *z) {
    return per_channel(m, z, [&](float *v, size_t c) { *v = *v / (1.0f / m.latents_std[c]) + m.latents_mean[c]; });
}

bool wan_vae_normalize(const wan_vae &m, vae_tensor *z) {
    return per_channel(m, z, [&](float *v, size_t c) { *v = (*v - m.latents_mean[c]) * (1.0f / m.latents_std[c]); });
}
