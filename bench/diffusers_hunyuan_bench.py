"""HunyuanVideo in PyTorch + diffusers with random bf16 weights from the
configs svg.cpp converts (bench/configs/hunyuanvideo-pipeline), timed the way
svg-bench / svg-run time ours:

    python3 bench/diffusers_hunyuan_bench.py forward FOLDER [--width 1280 --height 720 --frames 129] [--reps 3]
        one transformer forward, batch 1, 256 random Llama embeddings (200 valid), guidance 6: median ms
        and torch's peak allocated memory (weights included)
    python3 bench/diffusers_hunyuan_bench.py pipeline FOLDER --steps N [--width 1280 --height 720 --frames 129]
        HunyuanVideoPipeline.__call__ on a prompt: Llama-3-8B text tower and CLIP-L (random; the
        tokenizers are FOLDER/tokenizer and FOLDER/tokenizer_2, the tests' small BPE ones), Euler with embedded guidance 6 (one
        forward per step), then the bf16 VAE decode in tiles (vae.enable_tiling(), as the release's
        scripts); one JSON line with the stage times

Both run on the GPU in bf16 (--device cpu: f32, for checking the script on a tiny config).
"""
import argparse
import json
import os
import time

import torch
from diffusers import AutoencoderKLHunyuanVideo, FlowMatchEulerDiscreteScheduler, HunyuanVideoPipeline, HunyuanVideoTransformer3DModel

DEV = "cuda"
DTYPE = torch.bfloat16


def sync():
    if DEV == "cuda":
        torch.cuda.synchronize()


def config(folder, name):
    with open(os.path.join(folder, name)) as f:
        return {k: v for k, v in json.load(f).items() if not k.startswith("_")}


def build(cls, folder, name):
    torch.manual_seed(0)
    torch.set_default_dtype(DTYPE)
    with torch.device(DEV):
        m = cls.from_config(config(folder, name)).eval()
    torch.set_default_dtype(torch.float32)
    return m


def peak_gib():
    return torch.cuda.max_memory_allocated() / 2**30 if DEV == "cuda" else 0.0


def forward(args):
    m = build(HunyuanVideoTransformer3DModel, args.folder, "transformer/config.json")
    c = m.config
    lf, lh, lw = (args.frames - 1) // 4 + 1, args.height // 8, args.width // 8
    x = torch.randn(1, c.in_channels, lf, lh, lw, device=DEV, dtype=DTYPE)
    text = torch.randn(1, 256, c.text_embed_dim, device=DEV, dtype=DTYPE)
    mask = torch.zeros(1, 256, device=DEV, dtype=DTYPE)
    mask[:, :200] = 1
    pooled = torch.randn(1, c.pooled_projection_dim, device=DEV, dtype=DTYPE)
    t = torch.tensor([500.0], device=DEV, dtype=DTYPE)
    g = torch.tensor([6000.0], device=DEV, dtype=DTYPE)
    sync()
    if DEV == "cuda":
        torch.cuda.reset_peak_memory_stats()
    times = []
    with torch.no_grad():
        for r in range(args.reps + 1):
            t0 = time.perf_counter()
            m(hidden_states=x, timestep=t, encoder_hidden_states=text, encoder_attention_mask=mask, pooled_projections=pooled, guidance=g,
              return_dict=False)
            sync()
            if r:
                times.append((time.perf_counter() - t0) * 1e3)
    times.sort()
    tokens = lf // c.patch_size_t * (lh // c.patch_size) * (lw // c.patch_size)
    print(f"diffusers hunyuan transformer {args.folder}: {args.width}x{args.height}x{args.frames} frames, {tokens} video tokens "
          f"+ 256 text, {str(DTYPE).split('.')[-1]}: {times[len(times) // 2]:.1f} ms (median of {args.reps}), peak allocated {peak_gib():.2f} GiB")


def pipeline(args):
    from diffusers.pipelines.hunyuan_video.pipeline_hunyuan_video import DEFAULT_PROMPT_TEMPLATE
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer, LlamaConfig, LlamaModel, PreTrainedTokenizerFast
    m = build(HunyuanVideoTransformer3DModel, args.folder, "transformer/config.json")
    vae = build(AutoencoderKLHunyuanVideo, args.folder, "vae/config.json")
    vae.enable_tiling()
    torch.set_default_dtype(DTYPE)
    with torch.device(DEV):
        te = LlamaModel(LlamaConfig(**config(args.folder, "text_encoder/config.json"))).eval()
        te2 = CLIPTextModel(CLIPTextConfig(**config(args.folder, "text_encoder_2/config.json"))).eval()
    torch.set_default_dtype(torch.float32)
    tok = PreTrainedTokenizerFast(tokenizer_file=os.path.join(args.folder, "tokenizer/tokenizer.json"), bos_token="<|begin_of_text|>",
                                  eos_token="<|end_of_text|>", pad_token="<|end_of_text|>")
    tok2 = CLIPTokenizer.from_pretrained(os.path.join(args.folder, "tokenizer_2"))
    # the template's crop as svg.cpp computes it (the release's 95 is its Llama 3 tokenizer's count)
    template = DEFAULT_PROMPT_TEMPLATE["template"]
    crop = len(tok(template[: template.find("{}")])["input_ids"])
    sched = FlowMatchEulerDiscreteScheduler(**config(args.folder, "scheduler/scheduler_config.json"))
    pipe = HunyuanVideoPipeline(tokenizer=tok, text_encoder=te, tokenizer_2=tok2, text_encoder_2=te2, transformer=m, vae=vae, scheduler=sched)
    pipe.set_progress_bar_config(disable=True)
    g = torch.Generator(DEV).manual_seed(42)
    sync()
    if DEV == "cuda":
        torch.cuda.reset_peak_memory_stats()
    t0 = time.perf_counter()
    with torch.no_grad():
        latents = pipe(prompt="a cat surfing a wave", height=args.height, width=args.width, num_frames=args.frames,
                       num_inference_steps=args.steps, guidance_scale=6.0, generator=g, output_type="latent",
                       prompt_template={"template": template, "crop_start": crop}).frames
        sync()
        t1 = time.perf_counter()
        video = vae.decode(latents.to(vae.dtype) / vae.config.scaling_factor, return_dict=False)[0]
        video = pipe.video_processor.postprocess_video(video, output_type="pt")
        sync()
        t2 = time.perf_counter()
    print(json.dumps({"what": "diffusers HunyuanVideoPipeline", "width": args.width, "height": args.height, "frames": args.frames,
                      "steps": args.steps, "guidance": 6.0, "video": list(video.shape), "text_and_denoise_s": round(t1 - t0, 3),
                      "decode_s": round(t2 - t1, 3), "total_s": round(t2 - t0, 3), "peak_allocated_gib": round(peak_gib(), 3)}))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["forward", "pipeline"])
    ap.add_argument("folder")
    ap.add_argument("--width", type=int, default=1280)
    ap.add_argument("--height", type=int, default=720)
    ap.add_argument("--frames", type=int, default=129)
    ap.add_argument("--steps", type=int, default=50)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--device", default="cuda")
    args = ap.parse_args()
    global DEV, DTYPE
    DEV = args.device
    DTYPE = torch.bfloat16 if DEV == "cuda" else torch.float32
    (forward if args.mode == "forward" else pipeline)(args)


if __name__ == "__main__":
    main()
