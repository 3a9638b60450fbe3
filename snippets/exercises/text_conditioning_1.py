"""Exercise: guidance on the noise, on x0 or on the velocity: does it matter?

With alpha_t, sigma_t fixed, x0 = (x - sigma eps) / alpha and v = eps - x0 (straight
path) are affine in eps with coefficients that do not depend on the caption. Guidance
is an affine combination with weights summing to one (1 - s and s), so it commutes with
any such map: guiding eps and then converting gives the same as converting and then
guiding.
"""

import torch
from difflearn import pretrained
from difflearn.data import tokenize

model, ns, _ = pretrained.load("glyphs-unet")
c = model.text_encoder(tokenize(["a small cyan 0, rotated right"] * 3))
null = model.text_encoder(tokenize([""] * 3))
z = torch.randn(3, 4, 8, 8, generator=torch.Generator().manual_seed(0))
n = torch.tensor([100, 500, 900])
t_cont = (n + 1).double() / 1000  # the continuous time of step n
m = ns.marginals(t_cont)
alpha = torch.from_numpy(m.alpha).float()[:, None, None, None]
sigma = torch.from_numpy(m.sigma).float()[:, None, None, None]
s = 4.0
with torch.no_grad():
    eps_c, eps_0 = model.denoiser(z, n.float(), c), model.denoiser(z, n.float(), null)


def x0(eps):
    return (z - sigma * eps) / alpha


guided_then_x0 = x0(eps_0 + s * (eps_c - eps_0))
x0_then_guided = x0(eps_0) + s * (x0(eps_c) - x0(eps_0))
err = float((guided_then_x0 - x0_then_guided).abs().max())
size = float(x0_then_guided.abs().max())
print(f"max |difference| = {err:.1e}, on x0 values up to {size:.1f}")
assert err < 1e-3 * size
