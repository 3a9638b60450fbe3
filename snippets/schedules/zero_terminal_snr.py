# Most released schedules never reach pure noise;
# Lin et al. (2024) rescale them so SNR(T) = 0.
import torch
from difflearn import (
    NoiseScheduleVP,
    alphas_cumprod_from_betas,
    beta_schedule,
    rescale_zero_terminal_snr,
    snr,
)

betas = beta_schedule("scaled_linear", 1000)  # Stable Diffusion's schedule
before = alphas_cumprod_from_betas(betas)
after = alphas_cumprod_from_betas(rescale_zero_terminal_snr(betas))

print(f"SNR at the last step: {snr(before)[-1]:.2e} -> {snr(after)[-1]:.2e}")
assert snr(before)[-1] > 4e-3  # ~0.0047: the "pure noise" input still carries signal
assert snr(after)[-1] == 0  # exactly zero now
assert torch.isclose(after[0], before[0])  # the first step is unchanged

# a continuous-time solver needs lambda_T > -inf,
# so the schedule refuses alpha_T = 0 ...
try:
    NoiseScheduleVP("discrete", alphas_cumprod=after)
    raise AssertionError("expected a ValueError")
except ValueError as e:
    assert "alphas_cumprod[999] = 0.0" in str(e)
# ... and works once the last value is clamped to a tiny positive number
ns = NoiseScheduleVP(
    "discrete", alphas_cumprod=after.clamp(min=2**-24), dtype=torch.float64
)
print(
    f"kept {ns.total_N} steps; lambda at t = 1: "
    f"{ns.marginal_lambda(torch.tensor([1.0], dtype=torch.float64)).item():.2f}"
)
