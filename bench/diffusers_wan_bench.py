"""Times one Wan 2.1 transformer forward in PyTorch + diffusers, the way
`svg-bench --model` times ours: random bf16 weights from the same config
(bench/configs/*.json), batch 1, random latents / text embeddings, timestep
500, median over --reps after a warm-up, and torch's peak allocated memory
(weights included).

    python3 bench/diffusers_wan_bench.py bench/configs/wan2.1-t2v-1.3b.json [--frames 81 --height 480 --width 832]
        [--attention default|cudnn]

--attention cudnn restricts F.scaled_dot_product_attention to cuDNN (the
fastest SDPA backend on the H100; the default choice there is
FlashAttention-2).
"""
import contextlib
import argparse
import json

import torch
from diffusers import WanTransformer3DModel


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("config")
    ap.add_argument("--frames", type=int, default=81)
    ap.add_argument("--height", type=int, default=480)
    ap.add_argument("--width", type=int, default=832)
    ap.add_argument("--text", type=int, default=512)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--attention", choices=["default", "cudnn"], default="default")
    args = ap.parse_args()
    cfg = {k: v for k, v in json.load(open(args.config)).items() if not k.startswith("_")}
    torch.manual_seed(0)
    torch.set_default_dtype(torch.bfloat16)
    with torch.device("cuda"):
        model = WanTransformer3DModel(**cfg).eval()
    torch.set_default_dtype(torch.float32)
    lf, lh, lw = (args.frames - 1) // 4 + 1, args.height // 8, args.width // 8
    x = torch.randn(1, cfg["in_channels"], lf, lh, lw, device="cuda", dtype=torch.bfloat16)
    t = torch.tensor([500], device="cuda")
    text = torch.randn(1, args.text, cfg["text_dim"], device="cuda", dtype=torch.bfloat16)
    torch.cuda.synchronize()
    torch.cuda.reset_peak_memory_stats()
    times = []
    if args.attention == "cudnn":
        from torch.nn.attention import SDPBackend, sdpa_kernel
        attention = sdpa_kernel([SDPBackend.CUDNN_ATTENTION])
    else:
        attention = contextlib.nullcontext()
    with torch.no_grad(), attention:
        for r in range(args.reps + 1):
            a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            a.record()
            model(hidden_states=x, timestep=t, encoder_hidden_states=text, return_dict=False)
            b.record()
            torch.cuda.synchronize()
            if r:
                times.append(a.elapsed_time(b))
    times.sort()
    tokens = lf * (lh // 2) * (lw // 2)
    print(f"diffusers wan transformer {args.config}: {args.width}x{args.height}x{args.frames} frames, {tokens} tokens, "
          f"{args.text} text, bf16, {args.attention} attention: {times[len(times) // 2]:.1f} ms (median of {args.reps}), "
          f"peak allocated {torch.cuda.max_memory_allocated() / 2**30:.2f} GiB")


if __name__ == "__main__":
    main()
