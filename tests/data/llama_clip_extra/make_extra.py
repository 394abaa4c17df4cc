"""Held-out cases for tests/test-hunyuan-text.cpp, beside the shared goldens
(tests/data/goldens/llama_clip_encoders): other sizes and seeds, left and right
padding, the classes and namings the goldens do not cover.

  llama/  LlamaForCausalLM as transformers saves it ("model." prefix, lm_head),
          5 query heads on 1 kv head, head_dim left to its default (hidden /
          heads), rope_theta at the top level (the older config layout)
  clip/   CLIPTextModelWithProjection with eos_token_id 5 (the branch that
          pools at the first eos, not at the largest id), exact GELU
  llama_forward.safetensors  input_ids, attention_mask [3, 9]: right padding,
          left padding, none; every hidden_states.i of the LlamaModel
  clip_forward.safetensors   input_ids, attention_mask [2, 12] (right padding, none)
          → last_hidden_state, text_embeds

Run from this folder: python3 make_extra.py (torch, transformers, safetensors).
"""
import json
import os

import torch
from safetensors.torch import save_file
from transformers import CLIPTextConfig, CLIPTextModelWithProjection, LlamaConfig, LlamaForCausalLM


def redraw(model, seed):
    # random N(0, 0.2) everywhere (norm scales around 1) so no weight is trivial
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            mean = 1.0 if "norm" in name and name.endswith("weight") else 0.0
            p.copy_(torch.randn(p.shape, generator=g) * 0.2 + mean)


llama_cfg = LlamaConfig(vocab_size=128, hidden_size=40, intermediate_size=56, num_hidden_layers=3,
                        num_attention_heads=5, num_key_value_heads=1, max_position_embeddings=64,
                        rms_norm_eps=1e-6, tie_word_embeddings=False)
llama = LlamaForCausalLM(llama_cfg).eval()
redraw(llama, 11)
llama.save_pretrained("llama")
# the older config layout: rope_theta at the top level, no head_dim
os.remove("llama/generation_config.json")  # sampling settings, not the network
with open("llama/config.json") as f:
    c = json.load(f)
c.pop("head_dim", None)
c.pop("rope_parameters", None)
c["rope_theta"] = 10000.0
with open("llama/config.json", "w") as f:
    json.dump(c, f, indent=2, sort_keys=True)

g = torch.Generator().manual_seed(12)
ids = torch.randint(3, 128, (3, 9), generator=g)
mask = torch.ones(3, 9, dtype=torch.int64)
mask[0, 6:] = 0  # right padding
mask[1, :4] = 0  # left padding
with torch.no_grad():
    out = llama.model(input_ids=ids, attention_mask=mask, output_hidden_states=True)
rec = {"input_ids": ids, "attention_mask": mask}
for i, h in enumerate(out.hidden_states):
    rec[f"hidden_states.{i}"] = h.contiguous()
save_file(rec, "llama_forward.safetensors")

clip_cfg = CLIPTextConfig(vocab_size=64, hidden_size=32, intermediate_size=48, num_hidden_layers=2,
                          num_attention_heads=2, max_position_embeddings=12, hidden_act="gelu",
                          projection_dim=20, eos_token_id=5, bos_token_id=0, pad_token_id=1)
clip = CLIPTextModelWithProjection(clip_cfg).eval()
redraw(clip, 13)
clip.save_pretrained("clip")
g = torch.Generator().manual_seed(14)
ids = torch.randint(6, 64, (2, 12), generator=g)
ids[0, 7:] = 5  # eos, then eos as padding: pooled at 7
ids[1, 4] = 5  # eos early, a larger id after it, eos again: pooled at 4
ids[1, 9] = 5
mask = torch.ones(2, 12, dtype=torch.int64)
mask[0, 8:] = 0  # right padding
with torch.no_grad():
    out = clip(input_ids=ids, attention_mask=mask)
save_file({"input_ids": ids, "attention_mask": mask, "last_hidden_state": out.last_hidden_state.contiguous(),
           "text_embeds": out.text_embeds.contiguous()}, "clip_forward.safetensors")
