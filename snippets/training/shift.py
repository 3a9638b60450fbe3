# Resolution shift and logit-normal times: both are statements about lambda.
import math

import torch
import torch.nn.functional as F
from difflearn.schedules import shift_t
from difflearn.training.flow import sample_t_flow, sample_t_logit_normal


def lam(t):  # the straight path: alpha = 1 - t, sigma = t
    return torch.log1p(-t) - torch.log(t)


# 1. SD3's shift of t by a is a shift of lambda by -log a (the SNR divided by a^2) ...
t = torch.linspace(0.01, 0.99, 99, dtype=torch.float64)
for a in (0.5, 3.0, 8.0):
    assert torch.allclose(lam(shift_t(t, a)), lam(t) - math.log(a), atol=1e-12)
# ... which is simple diffusion's rule for a d x d image trained like a 64 x 64 one:
# SNR_d(t) = SNR_64(t) (64 / d)^2, i.e. a = d / 64 (Hoogeboom et al., 2023)
d = 256
assert torch.allclose(2 * lam(shift_t(t, d / 64)), 2 * lam(t) + 2 * math.log(64 / d))

# 2. why: average-pooling k x k pixels keeps a smooth image and divides the std of
#    white noise by k, so the low frequencies of a larger image have k^2 more SNR
g = torch.Generator().manual_seed(0)
noise = torch.randn(64, 1, 256, 256, generator=g)
for k in (2, 4):
    ratio = noise.std() / F.avg_pool2d(noise, k).std()
    print(f"pooling {k}x{k}: noise std / {ratio:.3f}")
    assert abs(ratio - k) < 0.01 * k

# 3. logit-normal t (SD3): t = sigmoid(m + s z) makes lambda = -(m + s z) ~ N(-m, s^2),
#    and with the shift, N(-m - log a, s^2)
n = 400_000
for m, s, a in ((0.0, 1.0, 1.0), (0.5, 0.8, 1.0), (0.0, 1.0, 3.0)):
    t = sample_t_logit_normal(n, g, m, s)
    t = shift_t(t, a) if a != 1.0 else t
    lm = lam(t)
    print(
        f"m = {m}, s = {s}, shift {a}: lambda mean {lm.mean():+.3f} "
        f"(predicted {-m - math.log(a):+.3f}), std {lm.std():.3f} (predicted {s})"
    )
    assert abs(lm.mean() + m + math.log(a)) < 0.01 and abs(lm.std() - s) < 0.01
# the library's sampler with the shift gives the same law
lm = lam(sample_t_flow(n, g, shift=3.0))
assert abs(lm.mean() + math.log(3.0)) < 0.01 and abs(lm.std() - 1.0) < 0.01
