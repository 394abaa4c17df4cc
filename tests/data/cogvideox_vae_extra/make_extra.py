# Held-out cases for the CogVideoX VAE beyond the shared golden: other frame
# counts (even and odd latent batches, several encoder batches) and diffusers'
# tiled decode, all with the golden's random weights. Needs torch + diffusers
# (PyPI); run from this folder: python make_extra.py
import json, os, shutil
import torch
from diffusers import AutoencoderKLCogVideoX
from safetensors.torch import save_file

golden = "../goldens/cogvideox_vae/vae"
vae = AutoencoderKLCogVideoX.from_pretrained(golden).eval()
g = torch.Generator().manual_seed(7)

def rnd(*shape):
    return torch.randn(*shape, generator=g)

with torch.no_grad():
    for name, z in [("decode_even", rnd(1, 16, 4, 2, 3)), ("decode_odd", rnd(1, 16, 5, 2, 2))]:
        save_file({"z": z.contiguous(), "video": vae.decode(z).sample.contiguous()}, name + ".safetensors")
    video = rnd(1, 3, 17, 16, 24).clamp(-1, 1)
    post = vae.encode(video).latent_dist
    save_file({"video": video.contiguous(), "mean": post.mean.contiguous(), "logvar": post.logvar.contiguous()},
              "encode_long.safetensors")

    # tiles: a config whose sample size gives tiles of 48x40 pixels every 40x32
    # (enable_tiling's defaults: half the sample size, overlaps 1/6 and 1/5)
    os.makedirs("vae_tiles", exist_ok=True)
    cfg = json.load(open(os.path.join(golden, "config.json")))
    cfg["sample_height"], cfg["sample_width"] = 96, 80
    json.dump(cfg, open("vae_tiles/config.json", "w"), indent=2)
    tiled = AutoencoderKLCogVideoX.from_config(cfg).eval()
    tiled.load_state_dict(vae.state_dict())
    tiled.enable_tiling()
    z = rnd(1, 16, 2, 7, 6)
    save_file({"z": z.contiguous(), "video": tiled.decode(z).sample.contiguous()}, "decode_tiled.safetensors")
