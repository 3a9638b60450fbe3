# Noise a batch in one jump: x_t = alpha_t * x_0 + sigma_t * eps, for any t.
import torch
from difflearn import NoiseScheduleVP

torch.manual_seed(0)
ns = NoiseScheduleVP(
    "linear"
)  # the VP SDE of Song et al. (2021): beta(t) = 0.1 + 19.9 t

x0 = torch.full(
    (200_000,), 2.0
)  # a point mass at 2, so the moments are easy to predict
t = torch.tensor([0.3])
alpha_t, sigma_t = ns.marginal_alpha(t), ns.marginal_std(t)
x_t = alpha_t * x0 + sigma_t * torch.randn_like(x0)

# variance preserving: alpha_t^2 + sigma_t^2 = 1 at every t
assert torch.allclose(alpha_t**2 + sigma_t**2, torch.ones(1))
# the sample moments match N(alpha_t * 2, sigma_t^2) to Monte Carlo accuracy
# (5 standard errors)
se = sigma_t / 200_000**0.5
assert abs(x_t.mean() - 2 * alpha_t) < 5 * se
assert abs(x_t.std() - sigma_t) < 5 * se
print(
    f"alpha_0.3 = {alpha_t.item():.4f}, sigma_0.3 = {sigma_t.item():.4f}, "
    f"lambda_0.3 = {ns.marginal_lambda(t).item():.4f}"
)
