#!/usr/bin/env python3
"""A consistent tiny HunyuanVideo pipeline (t2v/) and what diffusers'
HunyuanVideoPipeline makes of it: the golden of svg-run on HunyuanVideo files.

t2v/ is a diffusers pipeline folder as a user downloads it, built from the
repository's goldens (linked): the HunyuanVideo transformer (hunyuan_t2v:
text_embed_dim 32, pooled_projection_dim 24), the HunyuanVideo VAE, the
scheduler config (shift 7); a Llama text tower (hidden 32) and a CLIP text
model (hidden 24) with random weights whose vocabularies fit the test BPE
tokenizers (tests/data/tokenizer_bpe: llama3.tokenizer.json as tokenizer/,
CLIP's slow vocab.json + merges.txt as tokenizer_2/, the files
hunyuanvideo-community/HunyuanVideo ships).

The prompt template's crop is given explicitly: the release's 95 is what its
own Llama 3 tokenizer makes of the template's start, the tiny tokenizer
makes fewer; svg.cpp computes it from the tokenizer the same way.

Two runs: embedded guidance 6 alone (expected.safetensors), and with true
CFG 3 and a negative prompt (expected_cfg.safetensors). The initial latents
are svg.cpp's own noise (models/denoise.cpp svg_noise, re-implemented in
../wan_i2v_pipeline/make_golden.py), passed as `latents`.

Run from this folder: python3 make_golden.py (torch, diffusers, transformers).
"""
import importlib.util
import os

import numpy as np
import torch
from safetensors.torch import save_file

HERE = os.path.dirname(os.path.abspath(__file__))
BASE = dict(prompt="a paper boat drifts down a rainy street", width=32, height=32, frames=9, steps=3, embedded_cfg=6.0, seed=77)
RUNS = {"expected": dict(negative="", cfg=1.0), "expected_cfg": dict(negative="blurry, low quality", cfg=3.0)}

spec = importlib.util.spec_from_file_location("wan_golden", os.path.join(HERE, "../wan_i2v_pipeline/make_golden.py"))
wan_golden = importlib.util.module_from_spec(spec)
spec.loader.exec_module(wan_golden)


def link(sub, target):
    path = os.path.join("t2v", sub)
    if not os.path.islink(path):
        os.symlink(target, path)


def build():
    from diffusers import AutoencoderKLHunyuanVideo, FlowMatchEulerDiscreteScheduler, HunyuanVideoPipeline, HunyuanVideoTransformer3DModel
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer, LlamaConfig, LlamaModel, PreTrainedTokenizerFast

    for d in ["t2v", "t2v/tokenizer", "t2v/tokenizer_2"]:
        os.makedirs(d, exist_ok=True)
    link("transformer", "../../goldens/hunyuan_t2v/transformer")
    link("scheduler", "../../goldens/hunyuan_t2v/scheduler")
    link("vae", "../../goldens/hunyuan_vae/vae")
    link("tokenizer/tokenizer.json", "../../../tokenizer_bpe/llama3.tokenizer.json")
    link("tokenizer_2/vocab.json", "../../../tokenizer_bpe/clip.vocab.json")
    link("tokenizer_2/merges.txt", "../../../tokenizer_bpe/clip.merges.txt")
    tok = PreTrainedTokenizerFast(tokenizer_file="t2v/tokenizer/tokenizer.json", bos_token="<|begin_of_text|>", eos_token="<|end_of_text|>",
                                  pad_token="<|end_of_text|>")
    tok2 = CLIPTokenizer.from_pretrained("t2v/tokenizer_2")
    torch.manual_seed(5)
    if not os.path.exists("t2v/text_encoder/config.json"):
        te = LlamaModel(LlamaConfig(vocab_size=len(tok), hidden_size=32, intermediate_size=48, num_hidden_layers=4, num_attention_heads=4,
                                    num_key_value_heads=2, head_dim=8, max_position_embeddings=512, rope_theta=500000.0)).eval()
        te2 = CLIPTextModel(CLIPTextConfig(vocab_size=len(tok2), hidden_size=24, intermediate_size=40, num_hidden_layers=2, num_attention_heads=4,
                                           max_position_embeddings=77, hidden_act="quick_gelu", bos_token_id=tok2.bos_token_id,
                                           eos_token_id=tok2.eos_token_id, pad_token_id=tok2.pad_token_id)).eval()
        with torch.no_grad():
            for m in (te, te2):
                for p in m.parameters():
                    p.copy_(torch.randn_like(p) * 0.2 + (1.0 if p.dim() == 1 and "norm" in str(p) else 0.0))
        te.save_pretrained("t2v/text_encoder")
        te2.save_pretrained("t2v/text_encoder_2")
    pipe = HunyuanVideoPipeline(tokenizer=tok, text_encoder=LlamaModel.from_pretrained("t2v/text_encoder").eval(), tokenizer_2=tok2,
                                text_encoder_2=CLIPTextModel.from_pretrained("t2v/text_encoder_2").eval(),
                                transformer=HunyuanVideoTransformer3DModel.from_pretrained("t2v/transformer").eval(),
                                vae=AutoencoderKLHunyuanVideo.from_pretrained("t2v/vae").eval(),
                                scheduler=FlowMatchEulerDiscreteScheduler.from_pretrained("t2v/scheduler"))
    pipe.save_config("t2v")  # model_index.json
    return pipe


def main():
    from diffusers.pipelines.hunyuan_video.pipeline_hunyuan_video import DEFAULT_PROMPT_TEMPLATE
    os.chdir(HERE)
    pipe = build()
    template = DEFAULT_PROMPT_TEMPLATE["template"]
    crop = len(pipe.tokenizer(template[: template.find("{}")])["input_ids"])
    for name, run in RUNS.items():
        s = dict(BASE, **run)
        lf, lh, lw = (s["frames"] - 1) // 4 + 1, s["height"] // 8, s["width"] // 8
        latents = torch.from_numpy(wan_golden.svg_noise(16 * lf * lh * lw, s["seed"])).reshape(1, 16, lf, lh, lw)
        with torch.no_grad():
            video = pipe(prompt=s["prompt"], negative_prompt=s["negative"] or None, height=s["height"], width=s["width"], num_frames=s["frames"],
                         num_inference_steps=s["steps"], guidance_scale=s["embedded_cfg"], true_cfg_scale=s["cfg"], latents=latents,
                         prompt_template={"template": template, "crop_start": crop}, output_type="np").frames[0]
        save_file({"video": torch.from_numpy(np.ascontiguousarray(video)).float(), "latents_init": latents},
                  os.path.join("t2v", name + ".safetensors"), metadata={k: str(v) for k, v in s.items()})
        print(name, "crop", crop, "video", video.shape, float(video.min()), float(video.max()))


if __name__ == "__main__":
    main()
