// Wan 2.1 VAE (diffusers AutoencoderKLWan): causal 3D-convolution encoder and
// decoder.
//
// Design. The reference never runs its networks over a whole clip: the
// decoder takes one latent frame at a time and the encoder 1, then 4 video
// frames at a time, and every causal convolution continues from the last
// CACHE_T = 2 frames of its input that the previous chunk left in a feature
// cache. Memory therefore stays that of one chunk however long the clip, which
// is what lets 81 frames decode at all. We do the same: one graph per chunk,
// and a wan_vae_cache holding, for each cached convolution, its last input
// frames as persistent backend tensors. A chunk's graph reads the frames the
// previous chunk left and writes its own straight into a second tensor of the
// entry (the two alternate), so the cache never goes through the host. The
// reference's first-chunk rules are reproduced exactly: an absent entry means
// zero padding; the temporal upsampler's time_conv skips the first chunk (it
// starts at the second with zero padding); the temporal downsampler only
// caches its first chunk's last frame and convolves from the second on.
//
// Tensors are [B, C, T, H, W] f32 in PyTorch order, on the host.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "models/model-file.h"

struct wan_vae {
    int64_t z_dim = 0, in_channels = 0, out_channels = 0, num_res_blocks = 0;
    // per encoder downsampler, whether it also halves time (config
    // temperal_downsample; the decoder's upsamplers mirror it); stages = size + 1
    std::vector<bool> temporal_down;
    int64_t spatial_factor = 0;  // pixels per latent along H and W
    std::vector<float> latents_mean, latents_std;  // the pipeline's latent normalization
    svg_component_weights w;
};

// Read the hyper-parameters and upload the weights of the "vae" component.
bool wan_vae_load(const svg_gguf *f, svg_backend *be, wan_vae *m);

struct wan_vae_tensor {
    std::vector<int64_t> shape;  // [B, C, T, H, W]
    std::vector<float> data;
};

// AutoencoderKLWan.decode: z [B, z_dim, T, h, w] as the VAE takes it (not the
// normalized latents the transformer sees; see wan_vae_denormalize) →
// video [B, out_channels, 1 + 4 (T - 1), h·8, w·8] clamped to [-1, 1].
// progress, when set, is called after every chunk with (chunks done, chunks
// in all; tiled: over every tile) and returning false stops the decode, which
// then fails with a "cancelled" error.
using wan_vae_progress = std::function<bool(int64_t done, int64_t total)>;
bool wan_vae_decode(const wan_vae &m, svg_backend *be, const wan_vae_tensor &z, wan_vae_tensor *video,
                    const wan_vae_progress &progress = {});

// Spatial tiles as diffusers' tiled_decode, in output pixels (multiples of
// the spatial factor): tiles of tile_h × tile_w every stride_h / stride_w,
// overlaps blended linearly. Defaults are diffusers'.
struct wan_vae_tiling {
    int64_t tile_h = 256, tile_w = 256, stride_h = 192, stride_w = 192;
};
// wan_vae_decode in tiles (memory of one tile); a latent no larger than one
// tile decodes untiled, as in the reference.
bool wan_vae_decode_tiled(const wan_vae &m, svg_backend *be, const wan_vae_tensor &z, const wan_vae_tiling &tiling,
                          wan_vae_tensor *video, const wan_vae_progress &progress = {});

// AutoencoderKLWan.encode: video [B, in_channels, T, H, W] in [-1, 1] → the
// posterior's mean and logvar (clamped to [-30, 20]), [B, z_dim, 1 + (T-1)/4,
// H/8, W/8]. Frames past the last whole chunk of 4 are ignored, as there.
bool wan_vae_encode(const wan_vae &m, svg_backend *be, const wan_vae_tensor &video, wan_vae_tensor *mean,
                    wan_vae_tensor *logvar);

// The pipeline's latent (de)normalization with the config's latents_mean /
// latents_std, in place on z [B, z_dim, T, h, w]: denormalize before decoding
// (z / (1/std) + mean, in f32 as the pipeline computes it), normalize after
// encoding ((z - mean) · (1/std)).
bool wan_vae_denormalize(const wan_vae &m, wan_vae_tensor *z);
bool wan_vae_normalize(const wan_vae &m, wan_vae_tensor *z);

// ------------------------------------------------- chunk graphs and the cache

// The feature cache of one clip (or tile) being decoded or encoded.
class wan_vae_cache {
public:
    explicit wan_vae_cache(svg_backend *be);
    ~wan_vae_cache();
    wan_vae_cache(const wan_vae_cache &) = delete;
    wan_vae_cache &operator=(const wan_vae_cache &) = delete;

    int64_t chunks_done() const { return chunks_; }
    // While building a chunk: the frames the previous chunk left under key
    // (NULL when none), and keeping the last n frames of stream for the next
    // chunk. keep returns stream, or NULL on error so failures propagate like
    // an op's.
    svg_tensor *frames(const std::string &key) const;
    svg_tensor *keep(svg_context *ctx, const std::string &key, svg_tensor *stream, int64_t n);
    // After building: add the nodes writing the kept frames to g and give
    // them the entries' memory (call before planning g).
    bool finish_build(svg_graph *g);
    // After computing: the kept frames become the cached ones.
    void commit();

private:
    struct entry {
        svg_tensor *t[2] = {nullptr, nullptr};
        int cur = -1;  // which of t holds the cached frames; -1: none yet
    };
    struct write {
        svg_tensor *node;
        entry *e;
        int target;
    };
    svg_backend *be_;
    svg_context *ctx_;
    std::vector<svg_buffer *> bufs_;
    std::map<std::string, entry> entries_;
    std::vector<write> writes_;
    int64_t chunks_ = 0;
};

// One chunk's graph. Decoder: z [B, z_dim, 1, h, w] (post_quant_conv
// included) → [B, out_channels, frames, H, W] unclamped (1 frame for the
// first chunk, 4 after). Encoder: video [B, in_channels, t, H, W] (t = 1 for
// the first chunk, 4 after) → [B, 2·z_dim, 1, h, w] (quant_conv included).
svg_tensor *wan_vae_decode_chunk(svg_context *ctx, const wan_vae &m, svg_tensor *z, wan_vae_cache *cache);
svg_tensor *wan_vae_encode_chunk(svg_context *ctx, const wan_vae &m, svg_tensor *x, wan_vae_cache *cache);
