#!/usr/bin/env python3
"""A consistent tiny Wan 2.1 image-to-video pipeline and what diffusers'
WanImageToVideoPipeline makes of it: the golden of svg-run --image.

The folder is a diffusers pipeline folder as a user downloads it. Its new
part is the I2V transformer (random weights, image_dim = the CLIP golden's
hidden size, 32); the other components are the repository's existing
goldens, linked: umT5 text encoder, Wan VAE, CLIP vision tower and its
preprocessor config, the test SentencePiece tokenizer, the UniPC scheduler
config.

The initial noise is svg.cpp's own (mt19937_64 + Box-Muller in double,
models/svg-api.cpp), re-implemented here and passed to the pipeline as
`latents`, so svg-run with the same seed starts from the same latents.

Run from this folder: python3 make_golden.py (torch, diffusers,
transformers, sentencepiece, pillow from PyPI). Writes transformer/,
first_frame.png, expected.safetensors (video [F, H, W, 3] in [0, 1] and the
settings), and the links.
"""
import json
import math
import os

import numpy as np
import torch
from PIL import Image
from safetensors.torch import save_file

HERE = os.path.dirname(os.path.abspath(__file__))
SETTINGS = dict(prompt="a red fox runs through fresh snow", negative="blurry, static",
                width=48, height=32, frames=9, steps=3, cfg=5.0, seed=1234)

LINKS = {  # pipeline sub-folder -> existing golden (relative to this folder)
    "text_encoder": "../goldens/umt5_encoder/text_encoder",
    "vae": "../goldens/wan_vae/vae",
    "image_encoder": "../goldens/clip_vision/image_encoder",
    "image_processor": "../goldens/clip_vision/image_processor",
}


def mt19937_64(seed):
    """std::mt19937_64: yields 64-bit outputs."""
    mask = (1 << 64) - 1
    n, m = 312, 156
    mt = [seed & mask]
    for i in range(1, n):
        mt.append((6364136223846793005 * (mt[-1] ^ (mt[-1] >> 62)) + i) & mask)
    idx = n
    while True:
        if idx >= n:
            for i in range(n):
                x = (mt[i] & 0xFFFFFFFF80000000) | (mt[(i + 1) % n] & 0x7FFFFFFF)
                xa = x >> 1
                if x & 1:
                    xa ^= 0xB5026F5AA96619E9
                mt[i] = mt[(i + m) % n] ^ xa
            idx = 0
        y = mt[idx]
        idx += 1
        y ^= (y >> 29) & 0x5555555555555555
        y ^= (y << 17) & 0x71D67FFFEDA60000
        y ^= (y << 37) & 0xFFF7EEE000000000
        y ^= y >> 43
        yield y


def svg_noise(n, seed):
    """models/svg-api.cpp noise(): pairs of uniforms -> r cos, r sin, as f32."""
    rng = mt19937_64(seed)
    out = np.empty(n, dtype=np.float32)
    for i in range(0, n, 2):
        u1 = ((next(rng) >> 11) + 1.0) * 2.0 ** -53
        u2 = (next(rng) >> 11) * 2.0 ** -53
        r = math.sqrt(-2.0 * math.log(u1))
        out[i] = r * math.cos(2 * math.pi * u2)
        if i + 1 < n:
            out[i + 1] = r * math.sin(2 * math.pi * u2)
    return out


def first_frame(w, h):
    """A deterministic 64x40 picture: gradients and a disc, not a multiple of the video size."""
    y, x = np.mgrid[0:40, 0:64].astype(np.float64)
    r = 127 + 120 * np.sin(x / 9.0)
    g = 127 + 120 * np.cos(y / 7.0 + x / 23.0)
    b = np.where((x - 40) ** 2 + (y - 18) ** 2 < 120, 230.0, 40.0 + 2 * y)
    return Image.fromarray(np.stack([r, g, b], -1).clip(0, 255).astype(np.uint8))


def main():
    from diffusers import (AutoencoderKLWan, UniPCMultistepScheduler, WanImageToVideoPipeline,
                           WanTransformer3DModel)
    from transformers import CLIPImageProcessor, CLIPVisionModel, PreTrainedTokenizerFast, UMT5EncoderModel

    os.chdir(HERE)
    for sub, target in LINKS.items():
        if not os.path.islink(sub):
            os.symlink(target, sub)
    os.makedirs("tokenizer", exist_ok=True)
    if not os.path.islink("tokenizer/spiece.model"):
        os.symlink("../../tokenizer_spm/spm_unigram.model", "tokenizer/spiece.model")
    os.makedirs("scheduler", exist_ok=True)
    sched_cfg = {"_class_name": "UniPCMultistepScheduler", "flow_shift": 3.0, "prediction_type": "flow_prediction",
                 "use_flow_sigmas": True, "num_train_timesteps": 1000, "solver_order": 2, "predict_x0": True,
                 "solver_type": "bh2", "lower_order_final": True, "final_sigmas_type": "zero"}
    json.dump(sched_cfg, open("scheduler/scheduler_config.json", "w"), indent=2)

    image_encoder = CLIPVisionModel.from_pretrained("image_encoder").eval()
    torch.manual_seed(20261205)
    transformer = WanTransformer3DModel(
        patch_size=(1, 2, 2), num_attention_heads=2, attention_head_dim=12, in_channels=36, out_channels=16,
        text_dim=32, freq_dim=256, ffn_dim=32, num_layers=2, cross_attn_norm=True, qk_norm="rms_norm_across_heads",
        eps=1e-6, image_dim=image_encoder.config.hidden_size, added_kv_proj_dim=2 * 12,
        rope_max_seq_len=64).eval()
    with torch.no_grad():  # redrawn so no projection is zero (the goldens' convention)
        for name, p in transformer.named_parameters():
            p.copy_(1 + 0.1 * torch.randn_like(p) if "norm" in name and name.endswith("weight") else 0.2 * torch.randn_like(p))
    transformer.save_pretrained("transformer", safe_serialization=True)

    pipe = WanImageToVideoPipeline(
        # the same SentencePiece model as tokenizer.json (tests/data/tokenizer_spm/make_extra.py)
        tokenizer=PreTrainedTokenizerFast(tokenizer_file="../tokenizer_spm/spm_unigram.tokenizer.json", eos_token="</s>",
                                          pad_token="<pad>", unk_token="<unk>"),
        text_encoder=UMT5EncoderModel.from_pretrained("text_encoder").eval(),
        vae=AutoencoderKLWan.from_pretrained("vae").eval(),
        scheduler=UniPCMultistepScheduler.from_config(sched_cfg),
        image_processor=CLIPImageProcessor.from_pretrained("image_processor"),
        image_encoder=image_encoder, transformer=transformer)
    pipe.save_config(".")  # model_index.json (the weights are saved or linked above)

    s = SETTINGS
    img = first_frame(s["width"], s["height"])
    img.save("first_frame.png")
    lf, lh, lw = (s["frames"] - 1) // 4 + 1, s["height"] // 8, s["width"] // 8
    latents = torch.from_numpy(svg_noise(16 * lf * lh * lw, s["seed"])).reshape(1, 16, lf, lh, lw)
    with torch.no_grad():
        video = pipe(image=img, prompt=s["prompt"], negative_prompt=s["negative"], height=s["height"], width=s["width"],
                     num_frames=s["frames"], num_inference_steps=s["steps"], guidance_scale=s["cfg"], latents=latents,
                     output_type="np").frames[0]
    save_file({"video": torch.from_numpy(np.ascontiguousarray(video)).float(), "latents_init": latents},
              "expected.safetensors", metadata={k: str(v) for k, v in s.items()})
    print("video", video.shape, float(video.min()), float(video.max()))


if __name__ == "__main__":
    main()
