// CogVideoX VAE (diffusers AutoencoderKLCogVideoX), built from svg.h ops one
// frame batch at a time with the reference's conv cache (models/cogvideox-vae.h
// says why). Module names follow diffusers:
//   decoder: conv_in → mid block (res ×2) → up blocks (res ×(n+1), upsample) →
//            spatial norm, SiLU, conv_out; every norm conditioned on the batch's z
//   encoder: conv_in → down blocks (res ×n, downsample) → mid block (res ×2) →
//            GroupNorm, SiLU, conv_out
#include "models/cogvideox-vae.h"

#include <algorithm>
#include <cmath>

#include "src/svg-impl.h"

namespace {

using T = svg_tensor;

// Input frames every causal convolution (3 taps in time) carries to the next batch.
constexpr int64_t k_cache_t = 2;
// Frames per batch: latent frames when decoding, video frames when encoding
// (num_latent_frames_batch_size / num_sample_frames_batch_size).
constexpr int64_t k_dec_batch = 2, k_enc_batch = 8;

struct builder {
    svg_context *ctx;
    const cogvideox_vae &m;
    vae_frame_cache *cache;
    T *zq = nullptr;  // the decoder's input batch, which conditions its norms

    T *W(const std::string &name) const { return m.w.get(name); }

    // conv3d with module p's weights (vae_conv: Conv2d kernels per frame)
    T *conv(T *x, const std::string &p, const int stride[3], const int pad[6]) const {
        return vae_conv(ctx, x, W(p + ".weight"), W(p + ".bias"), stride, pad);
    }

    // CogVideoXCausalConv3d (pad_mode "first"): the input continues the last
    // k_cache_t input frames of the previous batch; the first batch repeats
    // its first frame instead. Space is zero-padded symmetrically. A kernel
    // of one frame needs no history.
    T *causal_conv(T *x, const std::string &p) const {
        T *w = W(p + ".conv.weight");
        if (!x || !w) return nullptr;
        const int ph = (int)(w->ne[3] / 2), pw = (int)(w->ne[4] / 2);
        const int stride[3] = {1, 1, 1}, pad[6] = {0, 0, ph, ph, pw, pw};
        if (w->ne[2] == 1) return conv(x, p + ".conv", stride, pad);
        T *old = cache->frames(p);
        const int64_t first_twice[5] = {0, 0, k_cache_t, 0, 0};
        T *stream = old ? svg_concat(ctx, old, x, 2) : svg_pad(ctx, x, first_twice, nullptr, SVG_PAD_REPLICATE, 0.f);
        return conv(cache->keep(ctx, p, stream, k_cache_t), p + ".conv", stride, pad);
    }

    // x nearest-resized by integer factors in (T, H, W)
    T *nearest(T *x, int64_t ft, int64_t fh, int64_t fw) const {
        if (!x) return nullptr;
        if (ft == 1 && fh == 1 && fw == 1) return x;
        const int factors[3] = {(int)ft, (int)fh, (int)fw};
        return svg_upsample_nearest(ctx, svg_cont(ctx, x), 3, factors);
    }

    // zq resized to f's (T, H, W) with F.interpolate's nearest rule; an odd
    // number of frames above one maps the first frame on its own, as the
    // reference does.
    T *zq_like(T *f) const {
        if (!f || !zq) return nullptr;
        const int64_t tf = f->ne[2], tz = zq->ne[2], fh = f->ne[3] / zq->ne[3], fw = f->ne[4] / zq->ne[4];
        if (tf > 1 && tf % 2 == 1) {
            if (tz < 2 || (tf - 1) % (tz - 1)) return svg_err((T *)nullptr, "vae: %lld frames cannot condition %lld", (long long)tz, (long long)tf);
            T *first = nearest(svg_slice(ctx, zq, 2, 0, 1, 1), 1, fh, fw);
            T *rest = nearest(svg_slice(ctx, zq, 2, 1, tz, 1), (tf - 1) / (tz - 1), fh, fw);
            return svg_concat(ctx, first, rest, 2);
        }
        if (tf % tz) return svg_err((T *)nullptr, "vae: %lld frames cannot condition %lld", (long long)tz, (long long)tf);
        return nearest(zq, tf / tz, fh, fw);
    }

    // CogVideoXSpatialNorm3D: GroupNorm(f)·conv_y(zq) + conv_b(zq); the
    // encoder's norms are plain GroupNorms.
    T *norm(T *x, const std::string &p, float eps) const {
        if (!x) return nullptr;
        if (!zq) return svg_group_norm(ctx, x, (int)m.groups, eps, W(p + ".weight"), W(p + ".bias"));
        T *z = zq_like(x);
        T *f = svg_group_norm(ctx, x, (int)m.groups, 1e-6f, W(p + ".norm_layer.weight"), W(p + ".norm_layer.bias"));
        return svg_add(ctx, svg_mul(ctx, f, causal_conv(z, p + ".conv_y")), causal_conv(z, p + ".conv_b"));
    }

    T *resblock(T *x, const std::string &p) const {
        T *w1 = W(p + ".conv1.conv.weight");
        if (!x || !w1) return nullptr;
        const int stride[3] = {1, 1, 1}, pad[6] = {0, 0, 0, 0, 0, 0};
        T *h = w1->ne[0] != x->ne[1] ? conv(x, p + ".conv_shortcut", stride, pad) : x;
        T *y = causal_conv(svg_silu(ctx, norm(x, p + ".norm1", m.eps)), p + ".conv1");
        y = causal_conv(svg_silu(ctx, norm(y, p + ".norm2", m.eps)), p + ".conv2");
        return svg_add(ctx, y, h);
    }

    // CogVideoXUpsample3D: ×2 nearest in H and W, and with compress_time in
    // time too (an odd count above one keeps its first frame single), then a
    // 3×3 conv per frame.
    T *upsample(T *x, const std::string &p, bool compress_time) const {
        if (!x) return nullptr;
        const int64_t t = x->ne[2];
        if (compress_time && t > 1 && t % 2 == 1)
            x = svg_concat(ctx, nearest(svg_slice(ctx, x, 2, 0, 1, 1), 1, 2, 2), nearest(svg_slice(ctx, x, 2, 1, t, 1), 2, 2, 2), 2);
        else
            x = nearest(x, compress_time && t > 1 ? 2 : 1, 2, 2);
        const int stride[3] = {1, 1, 1}, pad[6] = {0, 0, 1, 1, 1, 1};
        return conv(x, p + ".conv", stride, pad);
    }

    // CogVideoXDownsample3D: with compress_time, the average of each pair of
    // frames (an odd count keeps its first frame as it is); then one zero row
    // and column at the end and a 3×3 conv of stride 2 per frame.
    T *downsample(T *x, const std::string &p, bool compress_time) const {
        if (!x) return nullptr;
        const int64_t t = x->ne[2];
        if (compress_time && t > 1) {
            const int64_t odd = t % 2, B = x->ne[0], C = x->ne[1], HW = x->ne[3] * x->ne[4];
            const int64_t pairs[5] = {B, C, (t - odd) / 2, 2, HW};
            T *rest = svg_reshape(ctx, svg_cont(ctx, svg_slice(ctx, x, 2, odd, t, 1)), 5, pairs);
            T *mean = svg_scale(ctx, svg_add(ctx, svg_slice(ctx, rest, 3, 0, 1, 1), svg_slice(ctx, rest, 3, 1, 2, 1)), 0.5f, 0.f);
            const int64_t frames[5] = {B, C, (t - odd) / 2, x->ne[3], x->ne[4]};
            mean = svg_reshape(ctx, svg_cont(ctx, mean), 5, frames);
            x = odd ? svg_concat(ctx, svg_slice(ctx, x, 2, 0, 1, 1), mean, 2) : mean;
        }
        const int stride[3] = {1, 2, 2}, pad[6] = {0, 0, 0, 1, 0, 1};
        return conv(x, p + ".conv", stride, pad);
    }
};

// Frame batches of t frames, batch frames each, the first taking the
// remainder (the reference's num_batches / remaining_frames rule).
std::vector<int64_t> batch_bounds(int64_t t, int64_t batch) {
    const int64_t n = std::max<int64_t>(t / batch, 1), rest = t % batch;
    std::vector<int64_t> bounds = {0};
    for (int64_t i = 0; i < n; i++) bounds.push_back(std::min(batch * (i + 1) + rest, t));
    return bounds;
}

// The decoder over every latent frame, batch by batch, unclamped.
bool decode_batches(const cogvideox_vae &m, svg_backend *be, const vae_tensor &z, vae_tensor *out,
                    const std::function<bool()> &chunk_done) {
    return vae_run_chunks(
        be, z, batch_bounds(z.shape[2], k_dec_batch),
        [&](svg_context *ctx, T *x, vae_frame_cache *cache) {
            builder b{ctx, m, cache, x};
            T *h = b.causal_conv(x, "decoder.conv_in");
            for (int r = 0; r < 2; r++) h = b.resblock(h, "decoder.mid_block.resnets." + std::to_string(r));
            for (int64_t i = 0; i < m.stages; i++) {
                const std::string p = "decoder.up_blocks." + std::to_string(i);
                for (int64_t r = 0; r <= m.layers_per_block; r++) h = b.resblock(h, p + ".resnets." + std::to_string(r));
                if (i + 1 < m.stages) h = b.upsample(h, p + ".upsamplers.0", i < m.temporal_levels);
            }
            return b.causal_conv(svg_silu(ctx, b.norm(h, "decoder.norm_out", 1e-6f)), "decoder.conv_out");
        },
        out, "cogvideox vae", chunk_done);
}

}  // namespace

bool cogvideox_vae_load(const svg_gguf *f, svg_backend *be, cogvideox_vae *m) {
    svg_component_config c;
    if (!svg_component_config_open(f, "vae", &c)) return false;
    if (c.cls != "AutoencoderKLCogVideoX") return svg_err(false, "vae class '%s' is not AutoencoderKLCogVideoX", c.cls.c_str());
    std::vector<int64_t> ch = {128, 256, 256, 512};
    if (c.has("block_out_channels") && !c.get_ints("block_out_channels", &ch)) return false;
    m->in_channels = c.int_or("in_channels", 3);
    m->out_channels = c.int_or("out_channels", 3);
    m->z_dim = c.int_or("latent_channels", 16);
    m->layers_per_block = c.int_or("layers_per_block", 3);
    m->groups = c.int_or("norm_num_groups", 32);
    m->eps = (float)c.float_or("norm_eps", 1e-6);
    m->scaling_factor = c.float_or("scaling_factor", 1.15258426);
    m->invert_scale_latents = c.bool_or("invert_scale_latents", false);
    const double ratio = c.float_or("temporal_compression_ratio", 4);
    m->stages = (int64_t)ch.size();
    m->temporal_levels = (int64_t)std::log2(ratio);
    if (m->stages < 1 || m->in_channels < 1 || m->out_channels < 1 || m->z_dim < 1 || m->layers_per_block < 1 || m->groups < 1)
        return svg_err(false, "vae: block_out_channels, channel counts, layers_per_block and norm_num_groups must be positive");
    if (ratio < 1 || (double)((int64_t)1 << m->temporal_levels) != ratio || m->temporal_levels >= m->stages)
        return svg_err(false, "vae: temporal_compression_ratio %g must be a power of two below 2^%lld", ratio, (long long)m->stages);
    for (int64_t n : ch)
        if (n < 1 || n % m->groups)
            return svg_err(false, "vae: block_out_channels %lld is not a multiple of norm_num_groups %lld", (long long)n, (long long)m->groups);
    m->spatial_factor = (int64_t)1 << (m->stages - 1);
    // enable_tiling's defaults: tiles of half the sample size, overlapping by 1/6 (rows) and 1/5 (columns)
    const int64_t sf = m->spatial_factor;
    const int64_t tile_h = c.int_or("sample_height", 480) / 2 / sf, tile_w = c.int_or("sample_width", 720) / 2 / sf;
    m->tiling = {tile_h * sf, tile_w * sf, (int64_t)(tile_h * (1 - 1.0 / 6)) * sf, (int64_t)(tile_w * (1 - 1.0 / 5)) * sf};
    if (tile_h < 1 || tile_w < 1 || m->tiling.stride_h < sf || m->tiling.stride_w < sf)
        return svg_err(false, "vae: sample_height/sample_width too small for tiles of %lld pixels", (long long)sf);
    if (!svg_component_weights_load(f, "vae", be, &m->w)) return false;
    const int64_t n = m->stages;
    return m->w.has_shape("encoder.conv_in.conv.weight", {ch[0], m->in_channels, 3, 3, 3}) &&
           m->w.has_shape("encoder.conv_out.conv.weight", {2 * m->z_dim, ch[n - 1], 3, 3, 3}) &&
           m->w.has_shape("decoder.conv_in.conv.weight", {ch[n - 1], m->z_dim, 3, 3, 3}) &&
           m->w.has_shape("decoder.conv_out.conv.weight", {m->out_channels, ch[0], 3, 3, 3});
}

int64_t cogvideox_vae_frames(const cogvideox_vae &m, int64_t latent_frames) {
    const int64_t r = (int64_t)1 << m.temporal_levels;
    return latent_frames % 2 ? r * (latent_frames - 1) + 1 : r * latent_frames;
}

bool cogvideox_vae_decode(const cogvideox_vae &m, svg_backend *be, const vae_tensor &z, bool tiled, vae_tensor *video,
                          const vae_progress &progress) {
    if (!vae_check_video(z, m.z_dim, "z")) return false;
    const int64_t batches = (int64_t)batch_bounds(z.shape[2], k_dec_batch).size() - 1;
    const vae_decode_fn decode = [&](const vae_tensor &tile, vae_tensor *out, const std::function<bool()> &chunk_done) {
        return decode_batches(m, be, tile, out, chunk_done);
    };
    if (tiled) return vae_decode_tiled(z, m.spatial_factor, m.tiling, batches, decode, video, progress);
    int64_t done = 0;
    const std::function<bool()> chunk_done = [&] { return progress(++done, batches); };
    return decode(z, video, progress ? chunk_done : std::function<bool()>());
}

bool cogvideox_vae_encode(const cogvideox_vae &m, svg_backend *be, const vae_tensor &video, vae_tensor *mean, vae_tensor *logvar) {
    if (!vae_check_video(video, m.in_channels, "video")) return false;
    const int64_t f = m.spatial_factor;
    if (video.shape[3] % f || video.shape[4] % f)
        return svg_err(false, "vae: a %lldx%lld video is not a multiple of %lld pixels", (long long)video.shape[4],
                       (long long)video.shape[3], (long long)f);
    vae_tensor h;
    if (!vae_run_chunks(
            be, video, batch_bounds(video.shape[2], k_enc_batch),
            [&](svg_context *ctx, T *x, vae_frame_cache *cache) {
                builder b{ctx, m, cache};
                T *y = b.causal_conv(x, "encoder.conv_in");
                for (int64_t i = 0; i < m.stages; i++) {
                    const std::string p = "encoder.down_blocks." + std::to_string(i);
                    for (int64_t r = 0; r < m.layers_per_block; r++) y = b.resblock(y, p + ".resnets." + std::to_string(r));
                    if (i + 1 < m.stages) y = b.downsample(y, p + ".downsamplers.0", i < m.temporal_levels);
                }
                for (int r = 0; r < 2; r++) y = b.resblock(y, "encoder.mid_block.resnets." + std::to_string(r));
                return b.causal_conv(svg_silu(ctx, b.norm(y, "encoder.norm_out", 1e-6f)), "encoder.conv_out");
            },
            &h, "cogvideox vae"))
        return false;
    vae_split_moments(h, mean, logvar);
    return true;
}
