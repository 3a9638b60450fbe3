"""Exercise: the straightness of the 1-rectified flow of N(mu, s^2), in closed form.

x(t) = (1 - t) mu + sqrt(V_t) z with V_t = (1 - t)^2 s^2 + t^2, so
S = integral_0^1 ((d/dt) sqrt(V_t))^2 dt - (1 - s)^2 (times E z^2 = 1). Compared with
straightness() on the exact velocity v = -mu + (t - (1 - t) s^2) / V_t (x - (1 - t) mu).
"""

import math

import torch
from difflearn.fewstep import straightness
from difflearn.samplers import flow_timesteps
from scipy.integrate import quad

for mu, s in ((2.0, 0.2), (-1.0, 0.6), (0.5, 1.0)):

    def speed(t, s=s):  # d/dt sqrt(V_t)
        V = (1 - t) ** 2 * s**2 + t**2
        return (t - (1 - t) * s**2) / math.sqrt(V)

    closed = quad(lambda t: speed(t) ** 2, 0, 1)[0] - (1 - s) ** 2

    def v(x, t, mu=mu, s=s):
        t = t[:, None].double()
        V = (1 - t) ** 2 * s**2 + t**2
        return -mu + (t - (1 - t) * s**2) / V * (x - (1 - t) * mu)

    z = torch.randn(
        20_000, 1, dtype=torch.float64, generator=torch.Generator().manual_seed(0)
    )
    _, S = straightness(v, z, flow_timesteps(2000))
    se = float(S.std()) / math.sqrt(len(z))
    print(
        f"mu={mu}, s={s}: closed form {closed:.4f}, measured {S.mean():.4f} +- {se:.4f}"
    )
    assert abs(float(S.mean()) - closed) < 4 * se + 2e-3
