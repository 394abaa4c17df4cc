# Held-out HunyuanVideo transformer forwards (tests/test-hunyuan.cpp): configs
# and sizes the shared golden does not have — other head counts and RoPE
# axes, patch_size_t 2, no guidance embedding, a batch of two with different
# text masks (one of them padded), non-square latents. Random weights,
# N(0, 0.1), float32 on the CPU. Run from this folder:
#   python3 make_extra.py   (diffusers, torch)
import torch
from diffusers import HunyuanVideoTransformer3DModel
from safetensors.torch import save_file

CASES = {
    "a": dict(cfg=dict(in_channels=8, out_channels=8, num_attention_heads=2, attention_head_dim=16, num_layers=1, num_single_layers=2,
                       num_refiner_layers=1, mlp_ratio=3.0, patch_size=2, patch_size_t=1, qk_norm="rms_norm", guidance_embeds=True,
                       text_embed_dim=20, pooled_projection_dim=12, rope_theta=256.0, rope_axes_dim=(4, 6, 6)),
              batch=2, frames=3, height=6, width=4, text=7, valid=[7, 4]),
    "b": dict(cfg=dict(in_channels=4, out_channels=6, num_attention_heads=2, attention_head_dim=16, num_layers=2, num_single_layers=1,
                       num_refiner_layers=2, mlp_ratio=2.0, patch_size=1, patch_size_t=2, qk_norm="rms_norm", guidance_embeds=False,
                       text_embed_dim=16, pooled_projection_dim=8, rope_theta=100.0, rope_axes_dim=(4, 4, 8)),
              batch=1, frames=4, height=3, width=5, text=9, valid=[5]),
}

for name, c in CASES.items():
    torch.manual_seed({"a": 11, "b": 12}[name])
    m = HunyuanVideoTransformer3DModel(**c["cfg"]).eval()
    with torch.no_grad():
        for p in m.parameters():
            p.copy_(torch.randn_like(p) * 0.1)
    m.save_pretrained(f"transformer_{name}")
    B, cin = c["batch"], c["cfg"]["in_channels"]
    x = torch.randn(B, cin, c["frames"], c["height"], c["width"])
    text = torch.randn(B, c["text"], c["cfg"]["text_embed_dim"])
    mask = torch.zeros(B, c["text"])
    for b, v in enumerate(c["valid"]):
        mask[b, :v] = 1
    pooled = torch.randn(B, c["cfg"]["pooled_projection_dim"])
    t = torch.tensor([937.5, 250.0][:B])
    inputs = dict(hidden_states=x, timestep=t, encoder_hidden_states=text, encoder_attention_mask=mask, pooled_projections=pooled)
    if c["cfg"]["guidance_embeds"]:
        inputs["guidance"] = torch.tensor([6000.0, 3500.0][:B])
    with torch.no_grad():
        out = m(**inputs, return_dict=False)[0]
    save_file({**{k: v.contiguous() for k, v in inputs.items()}, "out": out.contiguous()}, f"forward_{name}.safetensors")
    print(name, tuple(out.shape), float(out.abs().mean()))
