# lambda_t = log(alpha_t / sigma_t) is strictly decreasing,
# so t can be recovered from it.
import torch
from difflearn import NoiseScheduleVP, beta_schedule

t = torch.linspace(1e-3, 1.0, 10_001, dtype=torch.float64)
for ns in [
    NoiseScheduleVP("linear"),
    NoiseScheduleVP(
        "discrete", betas=beta_schedule("linear", 1000), dtype=torch.float64
    ),
]:
    lam = ns.marginal_lambda(t)
    assert (lam[1:] < lam[:-1]).all()  # decreasing in t
    assert (ns.inverse_lambda(lam) - t).abs().max() < 1e-9
tc = torch.linspace(1e-3, 0.9946, 10_001, dtype=torch.float64)
ns = NoiseScheduleVP("cosine")
assert (ns.inverse_lambda(ns.marginal_lambda(tc)) - tc).abs().max() < 1e-9
print("inverse_lambda(marginal_lambda(t)) == t to 1e-9 for linear, discrete and cosine")
