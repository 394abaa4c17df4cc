# The golden HunyuanVideo transformer (goldens/hunyuan_t2v/transformer) in the
# original release's naming, as hunyuan_video_t2v_720p_bf16.safetensors (and
# ComfyUI) ship it: fused q/k/v, the single blocks' linear1 = [q; k; v; mlp],
# the final adaLN as (shift, scale). Proof that the renaming is right:
# diffusers' own single-file converter (convert_hunyuan_video_transformer_to_diffusers)
# maps the file back to the golden's weights exactly. That converter hard-codes
# the release's hidden size (3072) to split linear1; it is run with the tiny
# model's (48) put in its place. Run from this folder:
#   python3 make_original.py   (diffusers, torch, safetensors)
import inspect
import json
import os

import torch
from diffusers.loaders import single_file_utils
from safetensors.torch import load_file, save_file

here = os.path.dirname(os.path.abspath(__file__))
golden = os.path.join(here, "..", "goldens", "hunyuan_t2v", "transformer")
cfg = json.load(open(os.path.join(golden, "config.json")))
D = cfg["num_attention_heads"] * cfg["attention_head_dim"]
sd = load_file(os.path.join(golden, "diffusion_pytorch_model.safetensors"))

orig = {}
top = {
    "x_embedder.proj": "img_in.proj",
    "time_text_embed.timestep_embedder.linear_1": "time_in.mlp.0",
    "time_text_embed.timestep_embedder.linear_2": "time_in.mlp.2",
    "time_text_embed.guidance_embedder.linear_1": "guidance_in.mlp.0",
    "time_text_embed.guidance_embedder.linear_2": "guidance_in.mlp.2",
    "time_text_embed.text_embedder.linear_1": "vector_in.in_layer",
    "time_text_embed.text_embedder.linear_2": "vector_in.out_layer",
    "context_embedder.proj_in": "txt_in.input_embedder",
    "context_embedder.time_text_embed.timestep_embedder.linear_1": "txt_in.t_embedder.mlp.0",
    "context_embedder.time_text_embed.timestep_embedder.linear_2": "txt_in.t_embedder.mlp.2",
    "context_embedder.time_text_embed.text_embedder.linear_1": "txt_in.c_embedder.linear_1",
    "context_embedder.time_text_embed.text_embedder.linear_2": "txt_in.c_embedder.linear_2",
    "proj_out": "final_layer.linear",
}
for s in ("weight", "bias"):
    for d, o in top.items():
        orig[f"{o}.{s}"] = sd[f"{d}.{s}"]
    scale, shift = sd[f"norm_out.linear.{s}"].chunk(2)
    orig[f"final_layer.adaLN_modulation.1.{s}"] = torch.cat([shift, scale])
    for i in range(cfg["num_refiner_layers"]):
        d, o = f"context_embedder.token_refiner.refiner_blocks.{i}.", f"txt_in.individual_token_refiner.blocks.{i}."
        for a, b in [("norm1", "norm1"), ("norm2", "norm2"), ("attn.to_out.0", "self_attn_proj"), ("ff.net.0.proj", "mlp.fc1"),
                     ("ff.net.2", "mlp.fc2"), ("norm_out.linear", "adaLN_modulation.1")]:
            orig[o + b + "." + s] = sd[d + a + "." + s]
        orig[o + "self_attn_qkv." + s] = torch.cat([sd[d + f"attn.to_{x}.{s}"] for x in "qkv"])
    for i in range(cfg["num_layers"]):
        d, o = f"transformer_blocks.{i}.", f"double_blocks.{i}."
        for a, b in [("norm1.linear", "img_mod.linear"), ("norm1_context.linear", "txt_mod.linear"), ("attn.to_out.0", "img_attn_proj"),
                     ("attn.to_add_out", "txt_attn_proj"), ("ff.net.0.proj", "img_mlp.fc1"), ("ff.net.2", "img_mlp.fc2"),
                     ("ff_context.net.0.proj", "txt_mlp.fc1"), ("ff_context.net.2", "txt_mlp.fc2")]:
            orig[o + b + "." + s] = sd[d + a + "." + s]
        orig[o + "img_attn_qkv." + s] = torch.cat([sd[d + f"attn.to_{x}.{s}"] for x in "qkv"])
        orig[o + "txt_attn_qkv." + s] = torch.cat([sd[d + f"attn.add_{x}_proj.{s}"] for x in "qkv"])
    for i in range(cfg["num_single_layers"]):
        d, o = f"single_transformer_blocks.{i}.", f"single_blocks.{i}."
        orig[o + "linear1." + s] = torch.cat([sd[d + f"attn.to_{x}.{s}"] for x in "qkv"] + [sd[d + f"proj_mlp.{s}"]])
        orig[o + "linear2." + s] = sd[d + "proj_out." + s]
        orig[o + "modulation.linear." + s] = sd[d + "norm.linear." + s]
for i in range(cfg["num_layers"]):
    for a, b in [("norm_q", "img_attn_q_norm"), ("norm_k", "img_attn_k_norm"), ("norm_added_q", "txt_attn_q_norm"), ("norm_added_k", "txt_attn_k_norm")]:
        orig[f"double_blocks.{i}.{b}.weight"] = sd[f"transformer_blocks.{i}.attn.{a}.weight"]
for i in range(cfg["num_single_layers"]):
    orig[f"single_blocks.{i}.q_norm.weight"] = sd[f"single_transformer_blocks.{i}.attn.norm_q.weight"]
    orig[f"single_blocks.{i}.k_norm.weight"] = sd[f"single_transformer_blocks.{i}.attn.norm_k.weight"]
assert len(orig) == len(sd) - 2 * (cfg["num_refiner_layers"] * 2 + cfg["num_layers"] * 4 + cfg["num_single_layers"] * 3), "every weight renamed"

# the proof: diffusers' converter, with the tiny hidden size, gives back the golden
src = inspect.getsource(single_file_utils.convert_hunyuan_video_transformer_to_diffusers).replace("hidden_size = 3072", f"hidden_size = {D}")
ns = dict(vars(single_file_utils))
exec(src, ns)
back = ns["convert_hunyuan_video_transformer_to_diffusers"]({k: v.clone() for k, v in orig.items()})
assert set(back) == set(sd), sorted(set(back) ^ set(sd))
assert all(torch.equal(back[k], sd[k]) for k in sd), "values differ"
save_file({k: v.contiguous() for k, v in orig.items()}, os.path.join(here, "transformer_original_naming.safetensors"))
print(f"{len(orig)} tensors; diffusers maps them back exactly")
