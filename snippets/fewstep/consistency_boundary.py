"""Consistency models: the boundary condition, the noise-prediction form, the calls.

1. f(x, sigma_min) = x bit for bit, for the shipped digits-cd (and any weights).
2. consistency_model_fn, the form the samplers take, gives the same x0 as f.
3. Multistep consistency sampling makes exactly one model call per time.
4. One call of digits-cd against one call of the teacher's best solver (DDIM, the only
   one-step ODE solver): digits-FID on 400 samples.
"""

import torch
from difflearn import model_wrapper, pretrained
from difflearn.data import load_digits
from difflearn.fewstep import (
    consistency_function,
    consistency_model_fn,
    consistency_sampling,
    consistency_timesteps,
)
from difflearn.metrics import digits_fid
from difflearn.samplers import ddim

net, ns, card = pretrained.load("digits-cd")
sigma_min = card["sigma_min"]
v_fn = model_wrapper(net, ns, model_type="v")
f = consistency_function(v_fn, ns, sigma_min)
x = torch.randn(16, 1, 8, 8, generator=torch.Generator().manual_seed(0)) * 2
with torch.no_grad():
    assert torch.equal(f(x, sigma_min), x)  # the boundary condition, exactly
    assert not torch.allclose(f(x, 1.0), x)
print(f"f(x, {sigma_min:.4f}) == x exactly")

# 2. the same function as a noise prediction at (x_t, t) = (alpha x~, t(sigma))
cm = consistency_model_fn(v_fn, ns, sigma_min)
sigma = 2.0
t = ns.sigma_to_t(torch.tensor([sigma], dtype=torch.float64))
alpha, s_t = (float(v[0]) for v in (ns.marginals(t).alpha, ns.marginals(t).sigma))
with torch.no_grad():
    x0_eps = (alpha * x - s_t * cm(alpha * x, t.float().expand(16))) / alpha
    assert torch.allclose(x0_eps, f(x, sigma), atol=1e-4)

# 3. calls
calls = []


def counted(x, t):
    calls.append(1)
    return cm(x, t)


x_T = torch.randn(400, 1, 8, 8, generator=torch.Generator().manual_seed(1))
for n in (1, 2, 4):
    calls.clear()
    with torch.no_grad():
        consistency_sampling(counted, x_T[:8], ns, consistency_timesteps(ns, n))
    assert len(calls) == n
print("N-step consistency sampling: N model calls")

# 4. one call each
teacher, _, _ = pretrained.load("digits-uncond")
real, _ = load_digits(8)
with torch.no_grad():
    x_cd = consistency_sampling(cm, x_T, ns, consistency_timesteps(ns, 1))
    x_ddim = ddim(model_wrapper(teacher, ns), x_T, ns, torch.tensor([1.0, 1e-3]))
fid_cd, fid_teacher = digits_fid(real, x_cd), digits_fid(real, x_ddim)
print(f"one call: digits-cd FID {fid_cd:.1f}, teacher DDIM FID {fid_teacher:.1f}")
assert fid_cd < 0.5 * fid_teacher
