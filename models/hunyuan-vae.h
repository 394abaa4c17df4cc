// HunyuanVideo VAE decoder (diffusers AutoencoderKLHunyuanVideo): causal 3D
// convolutions (replicate padding, time padded in front only), a mid-block
// attention whose tokens see their own and every earlier latent frame, and
// upsamplers that keep the first frame single in time.
//
// Unlike the CogVideoX and Wan VAEs the reference keeps no frame cache: its
// decoder runs over a whole window of latent frames at once. Long clips are
// decoded in overlapping windows (use_framewise_decoding, on by default
// there) and large frames in overlapping spatial tiles (enable_tiling, which
// HunyuanVideo users turn on); both blend the overlaps. We make the same
// windows and tiles, so the result is the reference's, and memory stays that
// of one window × tile: a 720p × 129-frame decode runs in windows of 5
// latent frames and tiles of 256 × 256 pixels. Tensors are [B, C, T, H, W]
// f32 on the host.
#pragma once

#include <string>
#include <vector>

#include "models/model-file.h"
#include "models/vae-common.h"

struct hunyuan_vae {
    int64_t in_channels = 3, out_channels = 3, z_dim = 16, layers_per_block = 2, groups = 32;
    std::vector<int64_t> channels = {128, 256, 512, 512};  // block_out_channels
    int64_t spatial_factor = 8, temporal_factor = 4;
    bool mid_attention = true;
    double scaling_factor = 0.476986;
    // The reference's decode settings (AutoencoderKLHunyuanVideo.__init__ /
    // enable_tiling defaults): windows of tile_frames video frames every
    // stride_frames when the clip has more latent frames than one window
    // (framewise); spatial tiles of 256 pixels every 192 (tiled decode).
    bool framewise = true;
    int64_t tile_frames = 16, stride_frames = 12;
    vae_tiling tiling;
    svg_component_weights w;
};

bool hunyuan_vae_load(const svg_gguf *f, svg_backend *be, hunyuan_vae *m);

// Video frames the decoder makes of T latent frames: 4 (T − 1) + 1.
int64_t hunyuan_vae_frames(const hunyuan_vae &m, int64_t latent_frames);

// AutoencoderKLHunyuanVideo.decode: z [B, z_dim, T, h, w] as the VAE takes it
// (the pipeline's latents / scaling_factor) → video [B, out_channels,
// hunyuan_vae_frames(T), h·f, w·f] (f = spatial_factor), unclamped as the
// reference returns it.
// Framewise windows as m.framewise says; tiled: enable_tiling's spatial
// tiles (m.tiling) for latents larger than one tile, what HunyuanVideo
// pipelines use. progress as in vae-common.h (one step per window × tile).
// Framewise windows a decode of latent_frames runs (1 when unwindowed).
int64_t hunyuan_vae_windows(const hunyuan_vae &m, int64_t latent_frames);
bool hunyuan_vae_decode(const hunyuan_vae &m, svg_backend *be, const vae_tensor &z, bool tiled, vae_tensor *video,
                        const vae_progress &progress = {});
