// HunyuanVideo VAE decoder (diffusers AutoencoderKLHunyuanVideo), built from
// svg.h ops one window (× tile) at a time (models/hunyuan-vae.h says why).
// Module names follow diffusers:
//   post_quant_conv → decoder: conv_in → mid block (res, attention, res) →
//   up blocks (res ×(n+1), upsample) → GroupNorm, SiLU, conv_out
#include "models/hunyuan-vae.h"

#include <algorithm>
#include <cmath>

#include "src/svg-impl.h"

namespace {

using T = svg_tensor;

// GroupNorm epsilon of every norm in the decoder (fixed in the reference).
constexpr float k_eps = 1e-6f;

struct builder {
    svg_context *ctx;
    const hunyuan_vae &m;

    T *W(const std::string &name) const { return m.w.get(name); }

    T *norm(T *x, const std::string &p) const {
        if (!x) return nullptr;
        return svg_group_norm(ctx, x, (int)m.groups, k_eps, W(p + ".weight"), W(p + ".bias"));
    }

    // HunyuanVideoCausalConv3d: replicate padding, k/2 on both sides in space
    // and k − 1 frames in front in time (the first frame repeated), then the
    // convolution. (The reference's pad tuple takes the time padding from the
    // last kernel dim and the width padding from the first; every kernel is
    // cubic, so this is the same.)
    T *causal_conv(T *x, const std::string &p) const {
        T *w = W(p + ".conv.weight");
        if (!x || !w) return nullptr;
        const int64_t kt = w->ne[2], kh = w->ne[3], kw = w->ne[4];
        const int64_t before[5] = {0, 0, kt - 1, kh / 2, kw / 2}, after[5] = {0, 0, 0, kh / 2, kw / 2};
        if (kt > 1 || kh > 1 || kw > 1) x = svg_pad(ctx, x, before, after, SVG_PAD_REPLICATE, 0.f);
        const int stride[3] = {1, 1, 1}, pad[6] = {0, 0, 0, 0, 0, 0};
        return vae_conv(ctx, x, w, W(p + ".conv.bias"), stride, pad);
    }

    T *resblock(T *x, const std::string &p) const {
        T *w1 = W(p + ".conv1.conv.weight");
        if (!x || !w1) return nullptr;
        T *h = w1->ne[0] != x->ne[1] ? causal_conv(x, p + ".conv_shortcut") : x;
        T *y = causal_conv(svg_silu(ctx, norm(x, p + ".norm1")), p + ".conv1");
        y = causal_conv(svg_silu(ctx, norm(y, p + ".norm2")), p + ".conv2");
        return svg_add(ctx, y, h);
    }

    // The mid block's Attention: one head as wide as the channels over every
    // token of the window, GroupNorm first, residual added. Its mask
    // (prepare_causal_attention_mask) lets a token see the tokens of its own
    // and every earlier frame, so we run it frame by frame over a growing key
    // prefix instead of building the L × L mask. The head (512 dims in the
    // release) is wider than the attention op's kernels take, so it is two
    // GEMMs around a softmax: O_f = softmax(q_f·k_{≤f}ᵀ/√C)·v_{≤f}.
    T *attention(T *x, const std::string &p) const {
        if (!x) return nullptr;
        const int64_t B = x->ne[0], C = x->ne[1], F = x->ne[2], H = x->ne[3], Wd = x->ne[4], n = H * Wd;
        const int to_last[5] = {0, 2, 3, 4, 1}, to_second[5] = {0, 4, 1, 2, 3}, swap[3] = {0, 2, 1};
        T *t = svg_reshape_3d(ctx, svg_cont(ctx, svg_permute(ctx, norm(x, p + ".group_norm"), to_last)), B, F * n, C);
        T *q = svg_linear(ctx, t, W(p + ".to_q.weight"), W(p + ".to_q.bias"));
        T *k = svg_linear(ctx, t, W(p + ".to_k.weight"), W(p + ".to_k.bias"));
        T *vt = svg_cont(ctx, svg_permute(ctx, svg_linear(ctx, t, W(p + ".to_v.weight"), W(p + ".to_v.bias")), swap));  // [B, C, L]
        T *o = nullptr;
        for (int64_t f = 0; f < F; f++) {
            T *qf = svg_cont(ctx, svg_slice(ctx, q, 1, f * n, (f + 1) * n, 1));
            T *kf = svg_cont(ctx, svg_slice(ctx, k, 1, 0, (f + 1) * n, 1));
            T *vf = svg_cont(ctx, svg_slice(ctx, vt, 2, 0, (f + 1) * n, 1));
            T *s = svg_softmax(ctx, svg_scale(ctx, svg_mul_mat(ctx, qf, kf), 1.0f / std::sqrt((float)C), 0.f));
            T *of = svg_mul_mat(ctx, s, vf);  // [B, n, C]
            o = o ? svg_concat(ctx, o, of, 1) : of;
        }
        o = svg_linear(ctx, o, W(p + ".to_out.0.weight"), W(p + ".to_out.0.bias"));
        const int64_t ne[5] = {B, F, H, Wd, C};
        return svg_add(ctx, x, svg_cont(ctx, svg_permute(ctx, svg_reshape(ctx, o, 5, ne), to_second)));
    }

    // x nearest-resized by integer factors in (T, H, W)
    T *nearest(T *x, int64_t ft, int64_t fs) const {
        if (!x || (ft == 1 && fs == 1)) return x;
        const int factors[3] = {(int)ft, (int)fs, (int)fs};
        return svg_upsample_nearest(ctx, svg_cont(ctx, x), 3, factors);
    }

    // HunyuanVideoUpsampleCausal3D: the first frame is resized in space
    // only, the others in time too; then a causal conv.
    T *upsample(T *x, const std::string &p, int64_t ft, int64_t fs) const {
        if (!x) return nullptr;
        const int64_t t = x->ne[2];
        T *first = nearest(svg_slice(ctx, x, 2, 0, 1, 1), 1, fs);
        if (t > 1) first = svg_concat(ctx, first, nearest(svg_slice(ctx, x, 2, 1, t, 1), ft, fs), 2);
        return causal_conv(first, p + ".conv");
    }

    // post_quant_conv and HunyuanVideoDecoder3D over one window (tile).
    T *decode(T *z) const {
        const int stride[3] = {1, 1, 1}, pad[6] = {0, 0, 0, 0, 0, 0};
        T *h = causal_conv(vae_conv(ctx, z, W("post_quant_conv.weight"), W("post_quant_conv.bias"), stride, pad), "decoder.conv_in");
        h = resblock(h, "decoder.mid_block.resnets.0");
        if (m.mid_attention) h = attention(h, "decoder.mid_block.attentions.0");
        h = resblock(h, "decoder.mid_block.resnets.1");
        // up block i doubles space while i < log2(spatial factor) and time in
        // the two blocks before the last (time_compression_ratio 4)
        const int64_t n = (int64_t)m.channels.size(), space_ups = (int64_t)std::log2((double)m.spatial_factor);
        for (int64_t i = 0; i < n; i++) {
            const std::string p = "decoder.up_blocks." + std::to_string(i);
            for (int64_t r = 0; r <= m.layers_per_block; r++) h = resblock(h, p + ".resnets." + std::to_string(r));
            const int64_t fs = i < space_ups ? 2 : 1, ft = i >= n - 3 && i < n - 1 ? 2 : 1;
            if (fs > 1 || ft > 1) h = upsample(h, p + ".upsamplers.0", ft, fs);
        }
        return causal_conv(svg_silu(ctx, norm(h, "decoder.conv_norm_out")), "decoder.conv_out");
    }
};

// One window (or tile) of latent frames through the decoder, as one graph.
bool decode_window(const hunyuan_vae &m, svg_backend *be, const vae_tensor &z, vae_tensor *out, const std::function<bool()> &done) {
    return vae_run_chunks(
        be, z, {0, z.shape[2]},
        [&](svg_context *ctx, T *x, vae_frame_cache *) { return builder{ctx, m}.decode(x); }, out, "hunyuan vae", done);
}

}  // namespace

bool hunyuan_vae_load(const svg_gguf *f, svg_backend *be, hunyuan_vae *m) {
    svg_component_config c;
    if (!svg_component_config_open(f, "vae", &c)) return false;
    if (c.cls != "AutoencoderKLHunyuanVideo") return svg_err(false, "vae class '%s' is not AutoencoderKLHunyuanVideo", c.cls.c_str());
    if (c.has("block_out_channels") && !c.get_ints("block_out_channels", &m->channels)) return false;
    m->in_channels = c.int_or("in_channels", 3);
    m->out_channels = c.int_or("out_channels", 3);
    m->z_dim = c.int_or("latent_channels", 16);
    m->layers_per_block = c.int_or("layers_per_block", 2);
    m->groups = c.int_or("norm_num_groups", 32);
    m->scaling_factor = c.float_or("scaling_factor", 0.476986);
    m->spatial_factor = c.int_or("spatial_compression_ratio", 8);
    m->temporal_factor = c.int_or("temporal_compression_ratio", 4);
    m->mid_attention = c.bool_or("mid_block_add_attention", true);
    const int64_t n = (int64_t)m->channels.size();
    if (m->in_channels < 1 || m->out_channels < 1 || m->z_dim < 1 || m->layers_per_block < 1 || m->groups < 1)
        return svg_err(false, "vae: channel counts, layers_per_block and norm_num_groups must be positive");
    // the reference decoder only knows a time factor of 4, made by the two up blocks before the last
    if (m->temporal_factor != 4 || n < 3)
        return svg_err(false, "vae: temporal_compression_ratio %lld with %lld blocks: the decoder needs 4 and at least 3 blocks",
                       (long long)m->temporal_factor, (long long)n);
    if (m->spatial_factor < 2 || (m->spatial_factor & (m->spatial_factor - 1)) || m->spatial_factor > ((int64_t)1 << n))
        return svg_err(false, "vae: spatial_compression_ratio %lld must be a power of two up to 2^%lld", (long long)m->spatial_factor,
                       (long long)n);
    for (int64_t ch : m->channels)
        if (ch < 1 || ch % m->groups)
            return svg_err(false, "vae: block_out_channels %lld is not a multiple of norm_num_groups %lld", (long long)ch, (long long)m->groups);
    if (!svg_component_weights_load(f, "vae", be, &m->w)) return false;
    return m->w.has_shape("post_quant_conv.weight", {m->z_dim, m->z_dim, 1, 1, 1}) &&
           m->w.has_shape("decoder.conv_in.conv.weight", {m->channels[n - 1], m->z_dim, 3, 3, 3}) &&
           m->w.has_shape("decoder.conv_out.conv.weight", {m->out_channels, m->channels[0], 3, 3, 3});
}

int64_t hunyuan_vae_frames(const hunyuan_vae &m, int64_t latent_frames) { return (latent_frames - 1) * m.temporal_factor + 1; }

namespace {

// First latent frame of each framewise window (see hunyuan_vae_decode).
std::vector<int64_t> window_starts(const hunyuan_vae &m, int64_t frames) {
    const int64_t tile = m.tile_frames / m.temporal_factor, step = m.stride_frames / m.temporal_factor;
    std::vector<int64_t> starts = {0};
    for (int64_t i = step; m.framewise && frames > tile && step > 0 && i + 1 < frames; i += step) starts.push_back(i);
    return starts;
}

}  // namespace

int64_t hunyuan_vae_windows(const hunyuan_vae &m, int64_t latent_frames) { return (int64_t)window_starts(m, latent_frames).size(); }

bool hunyuan_vae_decode(const hunyuan_vae &m, svg_backend *be, const vae_tensor &z, bool tiled, vae_tensor *video,
                        const vae_progress &progress) {
    if (!vae_check_video(z, m.z_dim, "z")) return false;
    const int64_t tf = m.temporal_factor, tile = m.tile_frames / tf, step = m.stride_frames / tf;
    if (m.framewise && (m.tile_frames % tf || m.stride_frames % tf || step < 1 || m.stride_frames > m.tile_frames))
        return svg_err(false, "vae: windows of %lld frames every %lld must be multiples of %lld, no shorter than the stride",
                       (long long)m.tile_frames, (long long)m.stride_frames, (long long)tf);
    // _temporal_tiled_decode's windows: tile + 1 latent frames every step;
    // each after the first drops its first video frame (the previous one's
    // last) and fades in over tile_frames − stride_frames frames. A last
    // window of one latent frame would add nothing: it is left out.
    const int64_t frames = z.shape[2], H = z.shape[3], Wd = z.shape[4];
    const bool windowed = m.framewise && frames > tile;
    const std::vector<int64_t> starts = window_starts(m, frames);
    const int64_t n = (int64_t)starts.size();

    const vae_decode_fn decode = [&](const vae_tensor &x, vae_tensor *out, const std::function<bool()> &done) {
        return decode_window(m, be, x, out, done);
    };
    std::vector<vae_tensor> kept;
    vae_tensor prev;
    for (int64_t k = 0; k < n; k++) {
        const vae_tensor zw = windowed ? vae_crop(z, starts[k], std::min(starts[k] + tile + 1, frames), 0, H, 0, Wd) : z;
        // a window reports its tiles (of `per` in all) as part of every window's
        const vae_progress step_done = [&](int64_t done, int64_t per) { return progress(k * per + done, n * per); };
        vae_tensor dec;
        if (!(tiled ? vae_decode_tiled(zw, m.spatial_factor, m.tiling, 1, decode, &dec, progress ? step_done : vae_progress())
                    : decode(zw, &dec, progress ? [&] { return step_done(1, 1); } : std::function<bool()>())))
            return false;
        if (!windowed) {
            *video = std::move(dec);
            return true;
        }
        if (k > 0) {
            dec = vae_crop(dec, 1, dec.shape[2], 0, dec.shape[3], 0, dec.shape[4]);
            vae_blend(prev, &dec, m.tile_frames - m.stride_frames, 2);
        }
        const int64_t keep = std::min(dec.shape[2], m.stride_frames + (k == 0 ? 1 : 0));
        kept.push_back(vae_crop(dec, 0, keep, 0, dec.shape[3], 0, dec.shape[4]));
        prev = std::move(dec);
    }
    const vae_tensor all = vae_cat_frames(kept);
    *video = vae_crop(all, 0, std::min(all.shape[2], hunyuan_vae_frames(m, frames)), 0, all.shape[3], 0, all.shape[4]);
    return true;
}
