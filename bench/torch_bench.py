"""Times in PyTorch the operations examples/svg-bench times, at the same
shapes, so the two can be compared side by side on one device.

    python3 bench/torch_bench.py [--only SUBSTRING] [--reps N]

Attention uses F.scaled_dot_product_attention restricted to cuDNN (falls back
to the default choice when cuDNN is unavailable); GEMM is torch.nn.functional.linear
in bf16; RoPE is the complex multiply diffusers' Wan uses; the Wan q/k line is
diffusers' fp32 RMS norm over the H*D row followed by that RoPE; the
elementwise lines are F.gelu(approximate="tanh"), +, diffusers' gated residual
and umT5's gelu_tanh(a) * b, all in bf16.
"""
import argparse
import math

import torch
import torch.nn.functional as F

MODELS = [
    ("wan1.3b-480p", 12, 32760, 128, 1536, 8960),
    ("wan14b-720p", 40, 75600, 128, 5120, 13824),
    ("hunyuan-720p", 24, 119056, 128, 3072, 12288),
    ("cogvideox1.5", 48, 45106, 64, 3072, 12288),
]


def timed(fn, reps):
    for _ in range(2):
        fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(reps):
        a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        a.record()
        fn()
        b.record()
        torch.cuda.synchronize()
        times.append(a.elapsed_time(b))
    times.sort()
    return times[len(times) // 2]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--only", default="")
    ap.add_argument("--reps", type=int, default=10)
    args = ap.parse_args()
    dev, bf = "cuda", torch.bfloat16
    torch.manual_seed(0)
    print(f"torch {torch.__version__} on {torch.cuda.get_device_name()}")
    print(f"{'op':72s} {'ms':>10s} {'rate':>12s}")

    def report(name, fn, flops=0.0, nbytes=0.0):
        if args.only and args.only not in name:
            return
        ms = timed(fn, args.reps)
        rate = f"{flops / ms / 1e9:.1f} TFLOP/s" if flops else f"{nbytes / ms / 1e6:.0f} GB/s"
        print(f"{name:72s} {ms:10.3f} {rate:>12s}", flush=True)

    def want(s):
        return not args.only or args.only in s

    for name, H, L, D, C, FF in MODELS:
        n = f"{name} attention bf16 [1,{H},{L},{D}]"
        if want(n):
            q, k, v = (torch.randn(1, L, H, D, device=dev, dtype=bf).transpose(1, 2) for _ in range(3))
            try:
                from torch.nn.attention import SDPBackend, sdpa_kernel
                with sdpa_kernel([SDPBackend.CUDNN_ATTENTION]):
                    F.scaled_dot_product_attention(q, k, v)
                backends = [SDPBackend.CUDNN_ATTENTION]
            except Exception:
                backends = None

            def att():
                if backends is None:
                    return F.scaled_dot_product_attention(q, k, v)
                with sdpa_kernel(backends):
                    return F.scaled_dot_product_attention(q, k, v)
            report(n, att, 4.0 * H * L * L * D)
            del q, k, v
        n = f"{name} linear ffn-up bf16 [{L}x{C}]x[{FF}]"
        if want(n):
            x = torch.randn(1, L, C, device=dev, dtype=bf)
            w = torch.randn(FF, C, device=dev, dtype=bf)
            b = torch.randn(FF, device=dev, dtype=bf)
            report(n, lambda: F.linear(x, w, b), 2.0 * L * C * FF)
            del x, w, b
        n = f"{name} layernorm+modulate bf16 [{L}x{C}]"
        if want(n):
            x = torch.randn(1, L, C, device=dev, dtype=bf)
            sc = torch.randn(1, 1, C, device=dev, dtype=torch.float32)
            sh = torch.randn(1, 1, C, device=dev, dtype=torch.float32)
            # as diffusers Wan: fp32 norm, modulate, cast back
            report(n, lambda: (F.layer_norm(x.float(), (C,), eps=1e-6) * (1 + sc) + sh).type_as(x), 0, 2.0 * L * C * 2)
            x2 = x
            w = torch.randn(C, device=dev, dtype=torch.float32)
            report(f"{name} rms_norm bf16 [{L}x{C}]", lambda: F.rms_norm(x2.float(), (C,), w, 1e-6).type_as(x2), 0, 2.0 * L * C * 2)
            del x, x2
        n = f"{name} rope3d bf16 [{L},{H},{D}]"
        if want(n):
            x = torch.randn(1, L, H, D, device=dev, dtype=bf)
            freqs = torch.polar(torch.ones(L, 1, D // 2, device=dev), torch.randn(L, 1, D // 2, device=dev))

            def rope():
                xc = torch.view_as_complex(x.to(torch.float64).unflatten(3, (-1, 2)))
                return torch.view_as_real(xc * freqs).flatten(3).type_as(x)
            report(n, rope, 0, 2.0 * L * H * D * 2 + L * 3 * 4)
            del x
        n = f"{name} qk rms_norm+rope3d bf16 [{L},{H},{D}]"
        if name.startswith("wan") and want(n):
            # diffusers Wan self-attention q/k: RMSNorm over the whole H*D row
            # in fp32, back to bf16, heads, then the complex-number RoPE
            x = torch.randn(1, L, H * D, device=dev, dtype=bf)
            w = torch.randn(H * D, device=dev, dtype=torch.float32)
            freqs = torch.polar(torch.ones(L, 1, D // 2, device=dev), torch.randn(L, 1, D // 2, device=dev))

            def qk():
                xn = F.rms_norm(x.float(), (H * D,), w, 1e-6).type_as(x).unflatten(2, (H, -1))
                xc = torch.view_as_complex(xn.to(torch.float64).unflatten(3, (-1, 2)))
                return torch.view_as_real(xc * freqs).flatten(3).type_as(x)
            report(n, qk, 0, 2.0 * L * H * D * 2 + L * 3 * 4 + H * D * 4)
            del x

    # elementwise passes at Wan 1.3B 480p and umT5-XXL (svg-bench's lines):
    # torch ops in bf16 as diffusers / transformers run them (the gated
    # residual as diffusers' Wan block writes it: (h.float() + y * gate)
    # .type_as(h), gate an f32 [1, 1, C] slice of the modulation)
    p, L, C, FF = "wan1.3b-480p", 32760, 1536, 8960
    n = f"{p} gelu_tanh bf16 [{L}x{FF}]"
    if want(n):
        x = torch.randn(1, L, FF, device=dev, dtype=bf)
        report(n, lambda: F.gelu(x, approximate="tanh"), 0, 2.0 * L * FF * 2)
        del x
    n = f"{p} add bf16 [{L}x{C}]"
    if want(n):
        x, y = (torch.randn(1, L, C, device=dev, dtype=bf) for _ in range(2))
        report(n, lambda: x + y, 0, 3.0 * L * C * 2)
        del x, y
    n = f"{p} gated residual x + gate*y bf16 [{L}x{C}]"
    if want(n):
        h, y = (torch.randn(1, L, C, device=dev, dtype=bf) for _ in range(2))
        gate = torch.randn(1, 6, C, device=dev, dtype=torch.float32)[:, 2:3]
        report(n, lambda: (h.float() + y * gate).type_as(h), 0, 3.0 * L * C * 2 + C * 4)
        del h, y, gate
    for r, c in ((512, 10240), (L, FF)):
        n = f"{p} gated gelu act(a)*b bf16 [{r}x{c}]"
        if want(n):
            a, b = (torch.randn(1, r, c, device=dev, dtype=bf) for _ in range(2))
            report(n, lambda: F.gelu(a, approximate="tanh") * b, 0, 3.0 * r * c * 2)
            del a, b


if __name__ == "__main__":
    main()
