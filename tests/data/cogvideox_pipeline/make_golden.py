#!/usr/bin/env python3
"""Consistent tiny CogVideoX 1.5 pipelines, text-to-video (t2v/) and
image-to-video (i2v/), and what diffusers' CogVideoXPipeline /
CogVideoXImageToVideoPipeline make of them: the goldens of svg-run on
CogVideoX files.

Each folder is a diffusers pipeline folder as a user downloads it, built
from the repository's goldens (linked): the CogVideoX 1.5 transformers
(cogvideox15_t2v / cogvideox15_i2v), the T5 encoder (d_model 32 = the
transformers' text_embed_dim), the CogVideoX VAE, the test SentencePiece
tokenizer and the CogVideoXDDIMScheduler config.

The noise is svg.cpp's own (models/denoise.cpp svg_noise, re-implemented
in ../wan_i2v_pipeline/make_golden.py): the initial latents are passed as
`latents` ([1, F, C, h, w], F padded to patch_size_t) and, for I2V, the VAE
posterior sample uses svg.cpp's stream for it (seed ^ 0x9E3779B97F4A7C15),
so svg-run with the same seed computes the same thing.

Run from this folder: python3 make_golden.py (torch, diffusers,
transformers, sentencepiece, pillow from PyPI).
"""
import importlib.util
import os

import numpy as np
import torch
from safetensors.torch import save_file

HERE = os.path.dirname(os.path.abspath(__file__))
SETTINGS = dict(prompt="a paper boat drifts down a rainy street", negative="",
                width=32, height=48, frames=17, steps=3, cfg=6.0, seed=77)
I2V_SEED_XOR = 0x9E3779B97F4A7C15

spec = importlib.util.spec_from_file_location("wan_golden", os.path.join(HERE, "../wan_i2v_pipeline/make_golden.py"))
wan_golden = importlib.util.module_from_spec(spec)
spec.loader.exec_module(wan_golden)


def link(case, sub, target):
    path = os.path.join(case, sub)
    if not os.path.islink(path):
        os.symlink(target, path)


def build(case):
    from diffusers import (AutoencoderKLCogVideoX, CogVideoXDDIMScheduler, CogVideoXImageToVideoPipeline,
                           CogVideoXPipeline, CogVideoXTransformer3DModel)
    from transformers import PreTrainedTokenizerFast, T5EncoderModel

    os.makedirs(os.path.join(case, "tokenizer"), exist_ok=True)
    link(case, "transformer", "../../goldens/cogvideox15_%s/transformer" % case)
    link(case, "scheduler", "../../goldens/cogvideox15_%s/scheduler" % case)
    link(case, "vae", "../../goldens/cogvideox_vae/vae")
    link(case, "text_encoder", "../../goldens/t5_encoder/text_encoder")
    link(case, "tokenizer/spiece.model", "../../../tokenizer_spm/spm_unigram.model")
    cls = CogVideoXImageToVideoPipeline if case == "i2v" else CogVideoXPipeline
    pipe = cls(tokenizer=PreTrainedTokenizerFast(tokenizer_file="../tokenizer_spm/spm_unigram.tokenizer.json", eos_token="</s>",
                                                 pad_token="<pad>", unk_token="<unk>"),
               text_encoder=T5EncoderModel.from_pretrained(os.path.join(case, "text_encoder")).eval(),
               vae=AutoencoderKLCogVideoX.from_pretrained(os.path.join(case, "vae")).eval(),
               transformer=CogVideoXTransformer3DModel.from_pretrained(os.path.join(case, "transformer")).eval(),
               scheduler=CogVideoXDDIMScheduler.from_pretrained(os.path.join(case, "scheduler")))
    pipe.save_config(case)  # model_index.json
    return pipe


def main():
    os.chdir(HERE)
    s = SETTINGS
    for case in ["t2v", "i2v"]:
        pipe = build(case)
        t = pipe.transformer.config
        lf = (s["frames"] - 1) // 4 + 1
        lf += (t.patch_size_t - lf % t.patch_size_t) % t.patch_size_t
        lh, lw = s["height"] // 8, s["width"] // 8
        latents = torch.from_numpy(wan_golden.svg_noise(lf * 16 * lh * lw, s["seed"])).reshape(1, lf, 16, lh, lw)
        kw = dict(prompt=s["prompt"], negative_prompt=s["negative"], height=s["height"], width=s["width"],
                  num_frames=s["frames"], num_inference_steps=s["steps"], guidance_scale=s["cfg"], latents=latents,
                  output_type="np")
        if case == "i2v":
            img = wan_golden.first_frame(s["width"], s["height"])
            img.save("first_frame.png")
            import diffusers.pipelines.cogvideo.pipeline_cogvideox_image2video as i2v_module

            def posterior_sample(encoder_output, generator=None, sample_mode="sample"):
                d = encoder_output.latent_dist
                eps = torch.from_numpy(wan_golden.svg_noise(d.mean.numel(), s["seed"] ^ I2V_SEED_XOR)).reshape(d.mean.shape)
                return d.mean + d.std * eps
            i2v_module.retrieve_latents = posterior_sample
            kw["image"] = img
        with torch.no_grad():
            video = pipe(**kw).frames[0]
        save_file({"video": torch.from_numpy(np.ascontiguousarray(video)).float(), "latents_init": latents},
                  os.path.join(case, "expected.safetensors"), metadata={k: str(v) for k, v in s.items()})
        print(case, "video", video.shape, float(video.min()), float(video.max()))


if __name__ == "__main__":
    main()
