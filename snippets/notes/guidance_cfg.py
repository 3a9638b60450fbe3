"""Classifier-free guidance on an exact 2-D mixture: the implicit classifier and the
scale convention.

- eps_u + s (eps_c - eps_u) = eps_u - s sigma_t grad log p_t(y | x): CFG with scale s
  is classifier guidance with weight s, using the classifier implied by Bayes' rule.
- The CFG paper's (1 + w) eps_c - w eps_u is diffusers' guidance_scale = w + 1.
"""

import torch
from difflearn.data import mixture_2d
from difflearn.schedules import NoiseScheduleVP

ns = NoiseScheduleVP("linear")
gm = mixture_2d("two")  # two unequal classes in 2-D
eps_model = gm.noise_fn(ns)  # eps(x, t, y); y = -1 means unconditional
log_p_y = gm.classifier_fn(ns)  # log p_t(y | x)

g = torch.Generator().manual_seed(0)
x = 2 * torch.randn(512, 2, generator=g, dtype=torch.float64)
y = torch.randint(0, 2, (512,), generator=g)
t = (
    torch.rand(512, generator=g, dtype=torch.float64) * 0.9 + 0.05
)  # one time per sample
sigma = ns.marginal_std(t)[:, None]

eps_c, eps_u = eps_model(x, t, y), eps_model(x, t, -1)
with torch.enable_grad():
    x_in = x.clone().requires_grad_(True)
    grad = torch.autograd.grad(log_p_y(x_in, t, y).sum(), x_in)[
        0
    ]  # grad log p_t(y | x)

for s in (0.0, 1.0, 3.0, 7.5):
    cfg = eps_u + s * (eps_c - eps_u)  # diffusers / DPM-Solver convention
    classifier_guided = eps_u - s * sigma * grad  # Dhariwal & Nichol, in noise form
    assert torch.allclose(cfg, classifier_guided, atol=1e-10), s

# scale 1 is the plain conditional model; scale 0 the unconditional one
assert torch.allclose(eps_u + 1.0 * (eps_c - eps_u), eps_c)

# the two conventions: paper weight w  <->  guidance_scale = w + 1
w = 3.0
paper = (1 + w) * eps_c - w * eps_u  # Ho & Salimans (2022), eq. 6
diffusers_style = eps_u + (w + 1) * (eps_c - eps_u)
assert torch.allclose(paper, diffusers_style, atol=1e-12)
# passing the paper's w as guidance_scale under-guides by exactly one unit
# of (eps_c - eps_u)
wrong = eps_u + w * (eps_c - eps_u)
assert torch.allclose(paper - wrong, eps_c - eps_u, atol=1e-12)
print("CFG scale s == classifier guidance weight s; paper w == guidance_scale w + 1")
