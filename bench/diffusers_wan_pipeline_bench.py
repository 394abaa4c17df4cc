"""Times a full Wan 2.1 generation with diffusers' components, the work of
WanPipeline.__call__ (bf16 transformer, float32 VAE as the Wan release runs
it), against `svg-run` on the same random-weight configs
(bench/configs/wan2.1-t2v-1.3b-pipeline):

    python3 bench/diffusers_wan_pipeline_bench.py bench/configs/wan2.1-t2v-1.3b-pipeline
        [--width 832 --height 480 --frames 81 --steps 50 --cfg 5.0] [--attention default|cudnn]

Stages timed (CUDA-synchronized): the denoising loop (UniPC with the
scheduler config, a conditional and an unconditional transformer forward
per step, guidance), and the VAE decode (latent de-normalization + decode).
The umT5-XXL text encoder is not run: its forward needs transformers, which
the device image lacks; random prompt embeddings [1, 512, 4096] stand in
(on an H100 the encoder's two 512-token forwards are ~6 TFLOP each, a few
tens of ms: under 0.1% of the total). Prints one JSON line.
"""
import argparse
import contextlib
import json
import os
import time

import torch
from diffusers import AutoencoderKLWan, UniPCMultistepScheduler, WanTransformer3DModel


def config(folder, name):
    with open(os.path.join(folder, name)) as f:
        return {k: v for k, v in json.load(f).items() if not k.startswith("_")}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("folder")
    ap.add_argument("--width", type=int, default=832)
    ap.add_argument("--height", type=int, default=480)
    ap.add_argument("--frames", type=int, default=81)
    ap.add_argument("--steps", type=int, default=50)
    ap.add_argument("--cfg", type=float, default=5.0)
    ap.add_argument("--attention", choices=["default", "cudnn"], default="default")
    ap.add_argument("--device", default="cuda")
    args = ap.parse_args()
    dev = torch.device(args.device)
    torch.manual_seed(0)
    torch.set_default_dtype(torch.bfloat16)
    with dev:
        transformer = WanTransformer3DModel(**config(args.folder, "transformer/config.json")).eval()
    torch.set_default_dtype(torch.float32)
    with dev:
        vae = AutoencoderKLWan(**config(args.folder, "vae/config.json")).eval()
    scheduler = UniPCMultistepScheduler(**config(args.folder, "scheduler/scheduler_config.json"))
    text_dim = transformer.config.text_dim
    prompt_embeds = torch.randn(1, 512, text_dim, device=dev, dtype=torch.bfloat16)
    negative_embeds = torch.randn(1, 512, text_dim, device=dev, dtype=torch.bfloat16)
    lf, lh, lw = (args.frames - 1) // 4 + 1, args.height // 8, args.width // 8
    latents = torch.randn(1, 16, lf, lh, lw, device=dev, dtype=torch.float32)
    sync = torch.cuda.synchronize if dev.type == "cuda" else (lambda: None)
    if dev.type == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    if args.attention == "cudnn":
        from torch.nn.attention import SDPBackend, sdpa_kernel
        attention = sdpa_kernel([SDPBackend.CUDNN_ATTENTION])
    else:
        attention = contextlib.nullcontext()
    t0 = time.perf_counter()
    with torch.no_grad(), attention:
        scheduler.set_timesteps(args.steps, device=dev)
        for t in scheduler.timesteps:
            x = latents.to(torch.bfloat16)
            tt = t.expand(1)
            cond = transformer(hidden_states=x, timestep=tt, encoder_hidden_states=prompt_embeds, return_dict=False)[0]
            if args.cfg > 1.0:
                uncond = transformer(hidden_states=x, timestep=tt, encoder_hidden_states=negative_embeds, return_dict=False)[0]
                cond = uncond + args.cfg * (cond - uncond)
            latents = scheduler.step(cond, t, latents, return_dict=False)[0]
        sync()
        t1 = time.perf_counter()
        z = latents.to(vae.dtype)
        mean = torch.tensor(vae.config.latents_mean, device=dev).view(1, -1, 1, 1, 1)
        inv_std = 1.0 / torch.tensor(vae.config.latents_std, device=dev).view(1, -1, 1, 1, 1)
        video = vae.decode(z / inv_std + mean, return_dict=False)[0]
        sync()
        t2 = time.perf_counter()
    peak = torch.cuda.max_memory_allocated() / 2**30 if dev.type == "cuda" else 0.0
    print(json.dumps({"what": "diffusers components, WanPipeline's work", "attention": args.attention, "width": args.width,
                      "height": args.height, "frames": args.frames, "steps": args.steps, "cfg": args.cfg,
                      "video": list(video.shape), "denoise_s": round(t1 - t0, 3), "decode_s": round(t2 - t1, 3),
                      "total_s": round(t2 - t0, 3), "peak_allocated_gib": round(peak, 3)}))


if __name__ == "__main__":
    main()
