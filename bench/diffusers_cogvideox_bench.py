"""CogVideoX 1.5 in PyTorch + diffusers with random bf16 weights from the
configs svg.cpp converts (bench/configs/cogvideox1.5-5b-pipeline), timed the
way svg-bench / svg-run time ours:

    python3 bench/diffusers_cogvideox_bench.py forward FOLDER [--width 1360 --height 768 --frames 81] [--reps 3]
        one transformer forward, batch 1, 226 random text embeddings, timestep 500: median ms and torch's
        peak allocated memory (weights included)
    python3 bench/diffusers_cogvideox_bench.py pipeline FOLDER --steps N [--width 1360 --height 768 --frames 81]
        CogVideoXPipeline.__call__ on a prompt: T5 v1.1 XXL (random, 226 tokens; the tokenizer is
        tests/data/tokenizer_spm's SentencePiece model, ids < 1000), DDIM with guidance 6 batched
        [uncond, cond], then the bf16 VAE decode; one JSON line with the stage times

Both run on the GPU in bf16, as the CogVideoX 1.5 release does.
"""
import argparse
import json
import os
import time

import torch
from diffusers import AutoencoderKLCogVideoX, CogVideoXDDIMScheduler, CogVideoXPipeline, CogVideoXTransformer3DModel

HERE = os.path.dirname(os.path.abspath(__file__))
DEV = "cuda"


def sync():
    if DEV == "cuda":
        torch.cuda.synchronize()


def config(folder, name):
    with open(os.path.join(folder, name)) as f:
        return {k: v for k, v in json.load(f).items() if not k.startswith("_")}


def transformer(folder):
    torch.manual_seed(0)
    torch.set_default_dtype(torch.bfloat16)
    with torch.device(DEV):
        m = CogVideoXTransformer3DModel(**config(folder, "transformer/config.json")).eval()
    torch.set_default_dtype(torch.float32)
    return m


def latent_frames(frames, patch_t):
    lf = (frames - 1) // 4 + 1
    return lf + (patch_t - lf % patch_t) % patch_t


def forward(args):
    m = transformer(args.folder)
    c = m.config
    lf, lh, lw = latent_frames(args.frames, c.patch_size_t), args.height // 8, args.width // 8
    x = torch.randn(1, lf, c.in_channels, lh, lw, device=DEV, dtype=torch.bfloat16)
    text = torch.randn(1, c.max_text_seq_length, c.text_embed_dim, device=DEV, dtype=torch.bfloat16)
    t = torch.tensor([500], device=DEV)
    # the pipeline's RoPE tables for this size
    pipe = CogVideoXPipeline(tokenizer=None, text_encoder=None, vae=None, transformer=m, scheduler=None)
    pipe.vae_scale_factor_spatial = 8
    rope = pipe._prepare_rotary_positional_embeddings(args.height, args.width, lf, torch.device(DEV))
    sync()
    if DEV == "cuda":
        torch.cuda.reset_peak_memory_stats()
    times = []
    with torch.no_grad():
        for r in range(args.reps + 1):
            a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            a.record()
            m(hidden_states=x, encoder_hidden_states=text, timestep=t, image_rotary_emb=rope, return_dict=False)
            b.record()
            torch.cuda.synchronize()
            if r:
                times.append(a.elapsed_time(b))
    times.sort()
    tokens = lf // c.patch_size_t * (lh // c.patch_size) * (lw // c.patch_size) + c.max_text_seq_length
    print(f"diffusers cogvideox transformer {args.folder}: {args.width}x{args.height}x{args.frames} frames, {tokens} tokens "
          f"(text included), bf16: {times[len(times) // 2]:.1f} ms (median of {args.reps}), "
          f"peak allocated {torch.cuda.max_memory_allocated() / 2**30:.2f} GiB")


def pipeline(args):
    from transformers import PreTrainedTokenizerFast, T5Config, T5EncoderModel
    m = transformer(args.folder)
    torch.set_default_dtype(torch.bfloat16)
    with torch.device(DEV):
        te = T5EncoderModel(T5Config(**config(args.folder, "text_encoder/config.json"))).eval()
        vae = AutoencoderKLCogVideoX.from_config(config(args.folder, "vae/config.json")).eval()
    torch.set_default_dtype(torch.float32)
    vae.enable_tiling()  # as the release's scripts (and svg.cpp) decode: untiled needs ~108 GiB at 1360x768x81
    tok = PreTrainedTokenizerFast(tokenizer_file=os.path.join(HERE, "../tests/data/tokenizer_spm/spm_unigram.tokenizer.json"),
                                  eos_token="</s>", pad_token="<pad>", unk_token="<unk>")
    sched = CogVideoXDDIMScheduler(**config(args.folder, "scheduler/scheduler_config.json"))
    pipe = CogVideoXPipeline(tokenizer=tok, text_encoder=te, vae=vae, transformer=m, scheduler=sched)
    pipe.set_progress_bar_config(disable=True)
    g = torch.Generator(DEV).manual_seed(42)
    sync()
    if DEV == "cuda":
        torch.cuda.reset_peak_memory_stats()
    t0 = time.perf_counter()
    with torch.no_grad():
        out = pipe(prompt="a cat surfing a wave", height=args.height, width=args.width, num_frames=args.frames,
                   num_inference_steps=args.steps, guidance_scale=6.0, generator=g, output_type="latent").frames
        sync()
        t1 = time.perf_counter()
        lf = (args.frames - 1) // 4 + 1
        video = pipe.decode_latents(out[:, out.shape[1] - lf:])
        video = pipe.video_processor.postprocess_video(video=video, output_type="pt")
        sync()
        t2 = time.perf_counter()
    print(json.dumps({"what": "diffusers CogVideoXPipeline", "width": args.width, "height": args.height, "frames": args.frames,
                      "steps": args.steps, "cfg": 6.0, "video": list(video.shape), "text_and_denoise_s": round(t1 - t0, 3),
                      "decode_s": round(t2 - t1, 3), "total_s": round(t2 - t0, 3),
                      "peak_allocated_gib": round(torch.cuda.max_memory_allocated() / 2**30 if DEV == "cuda" else 0, 3)}))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["forward", "pipeline"])
    ap.add_argument("folder")
    ap.add_argument("--width", type=int, default=1360)
    ap.add_argument("--height", type=int, default=768)
    ap.add_argument("--frames", type=int, default=81)
    ap.add_argument("--steps", type=int, default=50)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--device", default="cuda")
    args = ap.parse_args()
    global DEV
    DEV = args.device
    (forward if args.mode == "forward" else pipeline)(args)


if __name__ == "__main__":
    main()
