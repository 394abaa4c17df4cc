#!/usr/bin/env python3
"""What diffusers' CogVideoXDDIMScheduler and CogVideoXDPMScheduler do with
fixed samples and model outputs, step after step, for a few schedules:
the golden of svg_ddpm_sampler (tests/test-sampler.cpp). The DPM step's
noise is svg.cpp's own stream (splitmix64 + Box-Muller, src/scheduler.cpp),
patched in for diffusers' randn_tensor, so both sides add the same noise.
Run from this folder: python3 make_golden.py (torch, diffusers from PyPI)."""
import math

import numpy as np
import torch
from safetensors.torch import save_file
import diffusers.schedulers.scheduling_dpm_cogvideox as dpm_module
from diffusers import CogVideoXDDIMScheduler, CogVideoXDPMScheduler

N_VALUES = 40
CASES = {  # name: (class, steps, config)
    "ddim_v_trailing": (CogVideoXDDIMScheduler, 5, dict()),
    "dpm_v_trailing": (CogVideoXDPMScheduler, 6, dict()),
    "ddim_eps_leading": (CogVideoXDDIMScheduler, 4, dict(prediction_type="epsilon", timestep_spacing="leading", steps_offset=1,
                                                         beta_schedule="linear", rescale_betas_zero_snr=False,
                                                         set_alpha_to_one=False, snr_shift_scale=3.0)),
    "dpm_sample_linspace": (CogVideoXDPMScheduler, 3, dict(prediction_type="sample", timestep_spacing="linspace",
                                                           rescale_betas_zero_snr=False, snr_shift_scale=1.5)),
}
BASE = dict(beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear", clip_sample=False, num_train_timesteps=1000,
            prediction_type="v_prediction", rescale_betas_zero_snr=True, set_alpha_to_one=True, snr_shift_scale=1.0,
            steps_offset=0, timestep_spacing="trailing")
SEED = 31337


class Stream:
    """src/scheduler.cpp next_normal: splitmix64, Box-Muller (cos) in double, as f32."""
    def __init__(self, seed):
        self.s = seed

    def u64(self):
        m = (1 << 64) - 1
        self.s = (self.s + 0x9E3779B97F4A7C15) & m
        z = self.s
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & m
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & m
        return z ^ (z >> 31)

    def normals(self, n):
        out = np.empty(n, dtype=np.float32)
        for i in range(n):
            u1 = ((self.u64() >> 11) + 1.0) * 2.0 ** -53
            u2 = (self.u64() >> 11) * 2.0 ** -53
            out[i] = math.sqrt(-2.0 * math.log(u1)) * math.cos(2 * math.pi * u2)
        return out


def main():
    g = torch.Generator().manual_seed(5)
    tensors, meta = {}, {}
    for name, (cls, steps, cfg) in CASES.items():
        sched = cls(**{**BASE, **cfg})
        sched.set_timesteps(steps)
        stream = Stream(SEED)
        dpm_module.randn_tensor = lambda shape, **kw: torch.from_numpy(stream.normals(int(np.prod(shape)))).reshape(shape)
        x = torch.randn(N_VALUES, generator=g)
        tensors[name + ".sample"] = x.clone()
        tensors[name + ".timesteps"] = sched.timesteps.clone().to(torch.int64)
        old = None
        for i, t in enumerate(sched.timesteps):
            out = torch.randn(N_VALUES, generator=g)
            tensors["%s.model_output%d" % (name, i)] = out
            if cls is CogVideoXDDIMScheduler:
                x = sched.step(out, t, x, return_dict=False)[0]
            else:
                x, old = sched.step(out, old, t, sched.timesteps[i - 1] if i > 0 else None, x, return_dict=False)
            tensors["%s.step%d" % (name, i)] = x.clone()
        meta[name] = repr({**BASE, **cfg, "steps": steps, "class": cls.__name__})
    save_file({k: v.contiguous() for k, v in tensors.items()}, "expected.safetensors", metadata=meta)


if __name__ == "__main__":
    main()
