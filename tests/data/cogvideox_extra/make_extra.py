#!/usr/bin/env python3
"""Held-out CogVideoX 1.5 transformer cases beyond the shared goldens: another
configuration (3 heads of 32 dims, 2 layers, no affine norms, an I2V model
with ofs) on a non-square latent (6 frames of 6 x 10), and the golden T2V
transformer on 8 frames of 8 x 4 with other text, with the RoPE tables the
pipeline computes for those sizes. Run from this folder: python3 make_extra.py
(torch, diffusers from PyPI)."""
import os

import torch
from diffusers import CogVideoXPipeline, CogVideoXTransformer3DModel
from safetensors.torch import save_file

HERE = os.path.dirname(os.path.abspath(__file__))


def forward(model, x, t, text, ofs, name):
    c = model.config
    pipe = CogVideoXPipeline(tokenizer=None, text_encoder=None, vae=None, transformer=model, scheduler=None)
    pipe.vae_scale_factor_spatial = 8
    rope = pipe._prepare_rotary_positional_embeddings(x.shape[3] * 8, x.shape[4] * 8, x.shape[1], torch.device("cpu"))
    with torch.no_grad():
        out = model(hidden_states=x, encoder_hidden_states=text, timestep=t, ofs=ofs, image_rotary_emb=rope, return_dict=False)[0]
    tensors = {"hidden_states": x, "timestep": t.float(), "encoder_hidden_states": text, "out": out,
               "image_rotary_emb.0": rope[0], "image_rotary_emb.1": rope[1]}
    if ofs is not None:
        tensors["ofs"] = ofs
    save_file({k: v.contiguous() for k, v in tensors.items()}, name)


def main():
    os.chdir(HERE)
    g = torch.Generator().manual_seed(4242)
    torch.manual_seed(4242)
    m = CogVideoXTransformer3DModel(num_attention_heads=3, attention_head_dim=32, in_channels=32, out_channels=16,
                                    time_embed_dim=24, ofs_embed_dim=24, text_embed_dim=24, num_layers=2, sample_width=40,
                                    sample_height=40, sample_frames=81, patch_size=2, patch_size_t=2, max_text_seq_length=226,
                                    norm_elementwise_affine=False, use_rotary_positional_embeddings=True,
                                    use_learned_positional_embeddings=False, patch_bias=False).eval()
    with torch.no_grad():  # no projection left at zero (the goldens' convention)
        for name, p in m.named_parameters():
            p.copy_(1 + 0.1 * torch.randn_like(p) if "norm" in name and name.endswith("weight") else 0.2 * torch.randn_like(p))
    m.save_pretrained("transformer_i2v", safe_serialization=True)
    forward(m, torch.randn(2, 6, 32, 6, 10, generator=g), torch.tensor([731, 731]), torch.randn(2, 226, 24, generator=g),
            torch.tensor([2.0]), "i2v_forward.safetensors")
    golden = CogVideoXTransformer3DModel.from_pretrained("../goldens/cogvideox15_t2v/transformer").eval()
    forward(golden, torch.randn(1, 8, 16, 8, 4, generator=g), torch.tensor([250]), torch.randn(1, 226, 32, generator=g), None,
            "t2v_forward.safetensors")


if __name__ == "__main__":
    main()
