// Wan 2.1 VAE (diffusers AutoencoderKLWan): causal 3D-convolution encoder and
// decoder.
//
// Design (models/vae-common.h): one graph per chunk with a frame cache. The
// decoder takes one latent frame at a time and the encoder 1, then 4 video
// frames at a time, and every causal convolution continues from the last
// CACHE_T = 2 frames of its input. The reference's first-chunk rules are
// reproduced exactly: an absent entry means zero padding; the temporal
// upsampler's time_conv skips the first chunk (it starts at the second with
// zero padding); the temporal downsampler only caches its first chunk's last
// frame and convolves from the second on.
//
// Tensors are [B, C, T, H, W] f32 in PyTorch order, on the host.
#pragma once

#include <string>
#include <vector>

#include "models/model-file.h"
#include "models/vae-common.h"

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

// AutoencoderKLWan.decode: z [B, z_dim, T, h, w] as the VAE takes it (not the
// normalized latents the transformer sees; see wan_vae_denormalize) →
// video [B, out_channels, 1 + 4 (T - 1), h·8, w·8] clamped to [-1, 1].
// progress, when set, is called after every chunk with (chunks done, chunks
// in all; tiled: over every tile) and returning false stops the decode, which
// then fails with a "cancelled" error.
bool wan_vae_decode(const wan_vae &m, svg_backend *be, const vae_tensor &z, vae_tensor *video,
                    const vae_progress &progress = {});

// wan_vae_decode in tiles (memory of one tile); a latent no larger than one
// tile decodes untiled, as in the reference.
bool wan_vae_decode_tiled(const wan_vae &m, svg_backend *be, const vae_tensor &z, const vae_tiling &tiling,
                          vae_tensor *video, const vae_progress &progress = {});

// AutoencoderKLWan.encode: video [B, in_channels, T, H, W] in [-1, 1] → the
// posterior's mean and logvar (clamped to [-30, 20]), [B, z_dim, 1 + (T-1)/4,
// H/8, W/8]. Frames past the last whole chunk of 4 are ignored, as there.
bool wan_vae_encode(const wan_vae &m, svg_backend *be, const vae_tensor &video, vae_tensor *mean,
                    vae_tensor *logvar);

// The pipeline's latent (de)normalization with the config's latents_mean /
// latents_std, in place on z [B, z_dim, T, h, w]: denormalize before decoding
// (z / (1/std) + mean, in f32 as the pipeline computes it), normalize after
// encoding ((z - mean) · (1/std)).
bool wan_vae_denormalize(const wan_vae &m, vae_tensor *z);
bool wan_vae_normalize(const wan_vae &m, vae_tensor *z);

// ------------------------------------------------- chunk graphs and the cache


// One chunk's graph. Decoder: z [B, z_dim, 1, h, w] (post_quant_conv
// included) → [B, out_channels, frames, H, W] unclamped (1 frame for the
// first chunk, 4 after). Encoder: video [B, in_channels, t, H, W] (t = 1 for
// the first chunk, 4 after) → [B, 2·z_dim, 1, h, w] (quant_conv included).
svg_tensor *wan_vae_decode_chunk(svg_context *ctx, const wan_vae &m, svg_tensor *z, vae_frame_cache *cache);
svg_tensor *wan_vae_encode_chunk(svg_context *ctx, const wan_vae &m, svg_tensor *x, vae_frame_cache *cache);
