"""Exercise: a paper reports CFG weight w = 3. What guidance_scale reproduces it?

The paper: eps~ = (1 + w) eps_c - w eps_u. model_wrapper (and diffusers): eps~ = eps_u +
s (eps_c - eps_u) = s eps_c - (s - 1) eps_u. So s = w + 1 = 4; s = 3 is the paper's w =
2. Check on an exact conditional mixture (label -1 = unconditional).
"""

import torch
from difflearn import GaussianMixture, NoiseScheduleVP, model_wrapper

ns = NoiseScheduleVP("linear", dtype=torch.float64)
gm = GaussianMixture([[-2.0], [0.0], [2.0]], 0.5)
model = gm.noise_fn(ns)  # model(x, t, y); y = -1: unconditional
x = torch.linspace(-4, 4, 101, dtype=torch.float64)[:, None]
t = torch.full((101,), 0.3, dtype=torch.float64)
y, null = torch.full((101,), 2), torch.full((101,), -1)
eps_c, eps_u = model(x, t, y), model(x, t, null)

w = 3.0
paper = (1 + w) * eps_c - w * eps_u
for scale, should_match in ((w + 1, True), (w, False)):
    fn = model_wrapper(
        model,
        ns,
        guidance_type="classifier-free",
        condition=y,
        unconditional_condition=null,
        guidance_scale=scale,
    )
    diff = (fn(x, t) - paper).abs().max().item()
    print(
        f"guidance_scale = {scale}: max difference from the paper's w = 3: {diff:.2e}"
    )
    assert (diff < 1e-12) if should_match else (diff > 0.1)
