"""CogVideoX's text encoder at real size (T5 v1.1 XXL, 4.7B, 226 tokens): a
random transformers T5EncoderModel in bf16 saved as a component folder, its
float32 forward on random token ids as the reference; svg-convert +
svg-forward --component text_encoder then run the same ids (bench/run-cogvideox.sh).

    python3 bench/t5_real_size_check.py CONFIG_FOLDER OUT_DIR     # writes OUT_DIR/text_encoder/, OUT_DIR/t5.safetensors
"""
import os
import sys

import torch
from safetensors.torch import save_file
from transformers import T5Config, T5EncoderModel


def main():
    folder, out = sys.argv[1], sys.argv[2]
    cfg = T5Config.from_json_file(os.path.join(folder, "text_encoder/config.json"))
    torch.manual_seed(0)
    torch.set_default_dtype(torch.bfloat16)
    with torch.device("cuda"):
        m = T5EncoderModel(cfg).eval()
    torch.set_default_dtype(torch.float32)
    m.save_pretrained(os.path.join(out, "text_encoder"), safe_serialization=True)
    g = torch.Generator().manual_seed(1)
    ids = torch.randint(2, cfg.vocab_size, (1, 226), generator=g)
    ids[0, 40] = 1  # eos, then padding as the pipeline pads
    ids[0, 41:] = 0
    m = m.float()
    with torch.no_grad():
        h = m(input_ids=ids.cuda()).last_hidden_state.float().cpu()
    save_file({"input_ids": ids, "last_hidden_state": h.contiguous()}, os.path.join(out, "t5.safetensors"))
    print("t5 reference", tuple(h.shape), float(h.abs().mean()))


if __name__ == "__main__":
    main()
