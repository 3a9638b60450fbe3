"""DDIM inversion, guidance, null-text inversion and DiffEdit, checked.

1. Exact two-mode mixture: the round trip (DDIM inversion, then DDIM) improves with
   steps.
2. Under classifier-free guidance (exact class-conditional noise predictions) it gets
   worse as the scale grows.
3. digits-cond at w = 3: guidance adds round-trip error over unguided inversion (the
   pivot of null-text inversion); null-text inversion takes at least 3/4 of it away.
4. DiffEdit on a 4-D mixture whose classes differ only in coordinates 2 and 3: the mask
   is exactly those, the edit keeps coordinates 0 and 1 and moves 2 and 3 to class B.
"""

import torch
from difflearn import (
    GaussianMixture,
    NoiseScheduleVP,
    beta_schedule,
    model_wrapper,
    pretrained,
)
from difflearn.data import load_digits
from difflearn.editing import (
    diffedit,
    diffedit_mask,
    guided_ddim,
    guided_eps,
    null_embedding,
    null_text_inversion,
)
from difflearn.samplers import ddim, ddim_inversion
from difflearn.schedules import time_steps

ns = NoiseScheduleVP("discrete", betas=beta_schedule("linear", 1000))
gm = GaussianMixture([[-2.0, -2.0], [2.0, 2.0]], 0.3)
base = gm.noise_fn(ns, time_input="discrete")


def grid(steps, t0=1.0):
    return time_steps(ns, "time_uniform", t0, 1e-3, steps, dtype=torch.float64)


def round_trip(fn, x0, steps):
    x_T = ddim_inversion(fn, x0, ns, grid(steps).flip(0))
    return float((ddim(fn, x_T, ns, grid(steps)) - x0).norm(dim=1).mean())


x0, y = gm.sample(400, generator=torch.Generator().manual_seed(0), return_labels=True)
x0 = x0[y == 1]
errors = [round_trip(model_wrapper(base, ns), x0, n) for n in (10, 20, 50, 100)]
print("round trip vs steps:", [f"{e:.4f}" for e in errors])
assert errors == sorted(errors, reverse=True)

label = torch.ones(len(x0), dtype=torch.long)
guided = []
for w in (1.0, 2.0, 4.0, 8.0):
    fn = model_wrapper(
        base,
        ns,
        guidance_type="classifier-free",
        condition=label,
        unconditional_condition=-label,
        guidance_scale=w,
    )  # -1: no label
    guided.append(round_trip(fn, x0, 20))
print("round trip vs guidance scale:", [f"{e:.4f}" for e in guided])
assert guided == sorted(guided) and guided[-1] > 2 * guided[0]

# 3. null-text inversion on the digits
model, ns_d, card = pretrained.load("digits-cond")
images, labels = load_digits(8)
x, yd, w = images[:6], labels[:6], 3.0
ts = time_steps(ns_d, "time_uniform", 1.0, 1e-3, 10, dtype=torch.float64)
nulls = [null_embedding(model, card["null_class"], 6)] * 10
cfg = model_wrapper(
    model,
    ns_d,
    guidance_type="classifier-free",
    condition=yd,
    unconditional_condition=torch.full_like(yd, card["null_class"]),
    guidance_scale=w,
)
with torch.no_grad():
    x_T = ddim_inversion(cfg, x, ns_d, ts.flip(0))
    plain = float((guided_ddim(model, ns_d, x_T, ts, yd, nulls, w) - x).abs().mean())
    cond = lambda z, t: guided_eps(model, ns_d, z, t, yd, nulls[0], 1.0)  # noqa: E731
    x_T = ddim_inversion(cond, x, ns_d, ts.flip(0))  # the pivot: w = 1
    base = float((guided_ddim(model, ns_d, x_T, ts, yd, nulls, 1.0) - x).abs().mean())
x_T, tuned = null_text_inversion(model, ns_d, x, ts, yd, card["null_class"], w)
with torch.no_grad():
    fixed = float((guided_ddim(model, ns_d, x_T, ts, yd, tuned, w) - x).abs().mean())
print(
    f"round trip: w = 1 {base:.4f}; w = 3: DDIM inversion {plain:.4f}, "
    f"null-text inversion {fixed:.4f}"
)
# guidance adds round-trip error over the pivot's; null-text inversion removes it
assert plain > 1.2 * base
assert fixed - base < 0.25 * (plain - base)

# 4. DiffEdit: classes agree on coordinates 0, 1 and differ on 2, 3
gm4 = GaussianMixture([[1.0, -1.0, -2.0, -2.0], [1.0, -1.0, 2.0, 2.0]], 0.3)
fn4 = gm4.noise_fn(ns, time_input="discrete")
a_fn = model_wrapper(lambda x, t: fn4(x, t, 0), ns)
b_fn = model_wrapper(lambda x, t: fn4(x, t, 1), ns)
xa, ya = gm4.sample(60, generator=torch.Generator().manual_seed(1), return_labels=True)
xa = xa[ya == 0][:, None, :]  # (B, 1, 4): class A
mask, _ = diffedit_mask(b_fn, a_fn, xa, ns, generator=torch.Generator().manual_seed(2))
assert torch.equal(mask[0, 0], torch.tensor([0.0, 0.0, 1.0, 1.0], dtype=torch.float64))
assert bool((mask == mask[:1]).all())
edited = diffedit(b_fn, a_fn, xa, mask, ns, grid(30, 0.5))
kept = float((edited[..., :2] - xa[..., :2]).abs().max())
print(
    f"DiffEdit: mask {mask[0, 0].tolist()}, outside the mask moved at most {kept:.4f}"
)
assert kept < 0.05 and bool((edited[..., 2:] > 0).all())
