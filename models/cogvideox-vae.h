// CogVideoX VAE (diffusers AutoencoderKLCogVideoX): causal 3D-convolution
// encoder and decoder whose decoder norms are conditioned on the latents
// (spatial norm: GroupNorm(f)·conv_y(zq) + conv_b(zq)).
//
// The reference decodes in batches of 2 latent frames (the first batch takes
// the odd one out) and encodes in batches of 8 video frames (the first takes
// the remainder); every causal convolution continues from the last 2 input
// frames the previous batch left, and the first batch repeats its first frame
// instead. GroupNorm statistics are taken per batch, so batches are part of
// the function: we run the same batches (models/vae-common.h). Tensors are
// [B, C, T, H, W] f32 on the host.
#pragma once

#include <string>
#include <vector>

#include "models/model-file.h"
#include "models/vae-common.h"

struct cogvideox_vae {
    int64_t in_channels = 3, out_channels = 3, z_dim = 16, layers_per_block = 3, groups = 32;
    int64_t stages = 4, temporal_levels = 2;  // up/down blocks; how many of them also halve time
    int64_t spatial_factor = 8;
    float eps = 1e-6f;
    double scaling_factor = 1.15258426;
    bool invert_scale_latents = false;
    vae_tiling tiling;  // diffusers' enable_tiling defaults for this config
    svg_component_weights w;
};

bool cogvideox_vae_load(const svg_gguf *f, svg_backend *be, cogvideox_vae *m);

// Video frames the decoder makes of T latent frames: odd T → 4T − 3, even → 4T.
int64_t cogvideox_vae_frames(const cogvideox_vae &m, int64_t latent_frames);

// AutoencoderKLCogVideoX.decode: z [B, z_dim, T, h, w] as the VAE takes it
// (the pipeline's latents / scaling_factor) → video [B, out_channels,
// cogvideox_vae_frames(T), h·8, w·8], unclamped as the reference returns it.
// tiled: diffusers' tiled_decode (spatial tiles of half the VAE's sample
// size, blended); progress as in vae-common.h.
bool cogvideox_vae_decode(const cogvideox_vae &m, svg_backend *be, const vae_tensor &z, bool tiled, vae_tensor *video,
                          const vae_progress &progress = {});

// AutoencoderKLCogVideoX.encode: video [B, in_channels, T, H, W] in [-1, 1] →
// the posterior's mean and logvar (clamped to [-30, 20]).
bool cogvideox_vae_encode(const cogvideox_vae &m, svg_backend *be, const vae_tensor &video, vae_tensor *mean, vae_tensor *logvar);
