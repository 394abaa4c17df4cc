// What the video VAEs share: host video tensors, the causal feature cache
// that lets a decoder run a clip chunk by chunk, running the chunks, and
// spatial tiling with blended overlaps (diffusers' tiled_decode).
//
// Design. The reference VAEs never run their networks over a whole clip:
// they decode (and encode) a few frames at a time, and every causal
// convolution continues from the last frames of its input that the previous
// chunk left in a cache. Memory therefore stays that of one chunk however
// long the clip, which is what lets 81 frames decode at all. We do the same:
// one graph per chunk, and a vae_frame_cache holding, for each cached
// convolution, its last input frames as persistent backend tensors. A
// chunk's graph reads the frames the previous chunk left and writes its own
// straight into a second tensor of the entry (the two alternate), so the
// cache never goes through the host.
//
// Tensors are [B, C, T, H, W] f32 in PyTorch order, on the host.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "svg.h"

struct vae_tensor {
    std::vector<int64_t> shape;  // [B, C, T, H, W]
    std::vector<float> data;
};

// Called after every chunk with (chunks done, chunks in all; tiled: over
// every tile); returning false stops the decode, which then fails with a
// "cancelled" error.
using vae_progress = std::function<bool(int64_t done, int64_t total)>;

// The feature cache of one clip (or tile) being decoded or encoded.
class vae_frame_cache {
public:
    explicit vae_frame_cache(svg_backend *be);
    ~vae_frame_cache();
    vae_frame_cache(const vae_frame_cache &) = delete;
    vae_frame_cache &operator=(const vae_frame_cache &) = delete;

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

// One chunk's graph: its input → its output, reading and keeping frames in the cache.
using vae_chunk_builder = std::function<svg_tensor *(svg_context *, svg_tensor *, vae_frame_cache *)>;

// Run build on the frames [bounds[i], bounds[i+1]) of x, one graph per chunk
// sharing one feature cache; the outputs, concatenated in time. chunk_done
// (when set) runs after every chunk; false stops with a "cancelled" error.
// what names the network in messages.
bool vae_run_chunks(svg_backend *be, const vae_tensor &x, const std::vector<int64_t> &bounds, const vae_chunk_builder &build,
                    vae_tensor *out, const char *what, const std::function<bool()> &chunk_done = {});

// Spatial tiles as diffusers' tiled_decode, in output pixels (multiples of
// the spatial factor): tiles of tile_h × tile_w every stride_h / stride_w,
// each tile blended linearly over the tile − stride pixels it shares with the
// finished tiles above and to its left. (Wan: 256 every 192; CogVideoX: half
// the VAE's sample size, overlaps 1/6 and 1/5.)
struct vae_tiling {
    int64_t tile_h = 256, tile_w = 256, stride_h = 192, stride_w = 192;
};
// The untiled decode of one latent z [B, C, T, h, w] (a tile), chunk_done after every chunk.
using vae_decode_fn = std::function<bool(const vae_tensor &z, vae_tensor *video, const std::function<bool()> &chunk_done)>;
// decode in tiles of z (memory of one tile); a latent no larger than one tile
// decodes untiled, as in the reference. chunks_per_tile: for progress.
bool vae_decode_tiled(const vae_tensor &z, int64_t spatial_factor, const vae_tiling &tiling, int64_t chunks_per_tile,
                      const vae_decode_fn &decode, vae_tensor *video, const vae_progress &progress = {});

// conv3d of x with weight w and bias b; a Conv2d's [Cout, Cin, kh, kw]
// kernel runs on each frame as a [Cout, Cin, 1, kh, kw] one (svg_conv3d's
// stride and padding).
svg_tensor *vae_conv(svg_context *ctx, svg_tensor *x, svg_tensor *w, svg_tensor *b, const int stride[3], const int pad[6]);

// ---- host helpers
bool vae_check_video(const vae_tensor &x, int64_t channels, const char *what);
vae_tensor vae_zeros(std::vector<int64_t> shape);
// x[:, :, t0:t1, h0:h1, w0:w1]
vae_tensor vae_crop(const vae_tensor &x, int64_t t0, int64_t t1, int64_t h0, int64_t h1, int64_t w0, int64_t w1);
void vae_clamp(std::vector<float> *v, float lo, float hi);
// diffusers' blend_t / blend_v / blend_h (axis 2 / 3 / 4), in place on b as
// there: b's first `extent` frames (rows, columns) fade linearly from a's
// last ones into b's own. a and b agree on the other axes.
void vae_blend(const vae_tensor &a, vae_tensor *b, int64_t extent, int axis);
// parts (same B, C, H, W) one after the other in time
vae_tensor vae_cat_frames(const std::vector<vae_tensor> &parts);
// DiagonalGaussianDistribution of the encoder's moments h [B, 2·z, T, h, w]:
// the channel halves, logvar clamped to [-30, 20]
void vae_split_moments(const vae_tensor &h, vae_tensor *mean, vae_tensor *logvar);
