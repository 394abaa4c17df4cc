# Held-out cases for the HunyuanVideo VAE decoder beyond the shared golden,
# made by diffusers' AutoencoderKLHunyuanVideo from random weights of another
# small config (3 blocks of 4-8-8 channels, spatial factor 4, 4 latent
# channels, 2 layers per block; weights stored in bf16, as the release ships): a plain decode, framewise windows (diffusers' defaults, batch of 2),
# one decode of the whole clip with framewise decoding off, spatial tiles,
# and windows × tiles. Tiles and windows are kept small so they trigger on
# small latents; the test repeats the settings written here. Needs torch +
# diffusers (PyPI); run from this folder: python make_extra.py
import json
import torch
from diffusers import AutoencoderKLHunyuanVideo
from safetensors.torch import save_file

torch.manual_seed(0)
cfg = dict(in_channels=3, out_channels=3, latent_channels=4, block_out_channels=[4, 8, 8], layers_per_block=2,
           norm_num_groups=4, spatial_compression_ratio=4, temporal_compression_ratio=4, mid_block_add_attention=True,
           down_block_types=["HunyuanVideoDownBlock3D"] * 3, up_block_types=["HunyuanVideoUpBlock3D"] * 3)
vae = AutoencoderKLHunyuanVideo(**cfg).eval()
# redraw every parameter (no zero bias, norms away from 1) as the goldens do
with torch.no_grad():
    for name, p in vae.named_parameters():
        if "norm" in name and name.endswith("weight"):
            p.copy_(1 + 0.1 * torch.randn_like(p))
        else:
            p.copy_(0.1 * torch.randn_like(p))
        p.copy_(p.bfloat16().float())  # the values the bf16 file holds
vae.to(torch.bfloat16).save_pretrained("vae")
vae.float()

g = torch.Generator().manual_seed(7)

def case(name, z, **settings):
    vae.use_framewise_decoding = settings.pop("framewise", True)
    vae.use_tiling = False
    if settings:
        vae.enable_tiling(**settings)
    with torch.no_grad():
        video = vae.decode(z).sample
    save_file({"z": z.contiguous(), "video": video.contiguous()}, name + ".safetensors")
    print(name, tuple(z.shape), "->", tuple(video.shape))

def rnd(*shape):
    return torch.randn(*shape, generator=g)

case("decode", rnd(1, 4, 3, 3, 5))
case("decode_framewise", rnd(2, 4, 8, 2, 3))  # windows of 5 latent frames every 3
case("decode_whole", rnd(1, 4, 6, 2, 2), framewise=False)
case("decode_tiled", rnd(1, 4, 2, 7, 5), tile_sample_min_height=16, tile_sample_min_width=16,
     tile_sample_stride_height=12, tile_sample_stride_width=12)
case("decode_framewise_tiled", rnd(1, 4, 5, 5, 4), tile_sample_min_height=16, tile_sample_min_width=12,
     tile_sample_stride_height=12, tile_sample_stride_width=8, tile_sample_min_num_frames=8,
     tile_sample_stride_num_frames=4)
