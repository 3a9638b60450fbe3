# Where a sampler spends its steps: continuous grids and diffusers-style discrete
# spacings.
import torch
from difflearn import NoiseScheduleVP, beta_schedule, discrete_timesteps, time_steps

ns = NoiseScheduleVP(
    "discrete", betas=beta_schedule("linear", 1000), dtype=torch.float64
)
t_T, t_0, N = 1.0, 1e-3, 10

for skip_type in ["time_uniform", "logSNR", "time_quadratic", "karras"]:
    t = time_steps(ns, skip_type, t_T, t_0, N, dtype=torch.float64)
    assert (
        len(t) == N + 1
        and t[0] == t_T
        and abs(t[-1] - t_0) < 1e-12
        and (t.diff() < 0).all()
    )
    print(f"{skip_type:>15}: " + " ".join(f"{v:.3f}" for v in t.tolist()))

# logSNR steps are equal steps in lambda
lam = ns.marginal_lambda(time_steps(ns, "logSNR", t_T, t_0, N, dtype=torch.float64))
assert torch.allclose(lam.diff(), lam.diff()[0].expand(N), rtol=1e-8)

# discrete spacings: 'leading' never visits the noisiest step 999,
# 'trailing' starts there
leading = discrete_timesteps(1000, 10, "leading")
trailing = discrete_timesteps(1000, 10, "trailing")
print("leading: ", leading.tolist())
print("trailing:", trailing.tolist())
assert leading[0] == 900 and trailing[0] == 999
