"""Exercise: the order of Euler and Heun on the flow ODE.

On an exact 2-D mixture the velocity of the straight path is known in closed form
(GaussianMixture.eps under FlowSchedule gives eps, and v = (eps - x) / (1 - t)). Solve
dx/dt = v from t = 0.999 to t = 0.001 with scipy at tolerance 1e-10 and compare: halving
the step should halve Euler's error (order 1) and quarter Heun's (order 2).
"""

import numpy as np
import torch
from difflearn import FlowSchedule
from difflearn.data import mixture_2d
from difflearn.samplers import flow_euler, flow_heun, flow_timesteps
from scipy.integrate import solve_ivp

gm, flow = mixture_2d("two"), FlowSchedule()
x_start = torch.randn(
    64, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(0)
)


def v(x, t):  # the exact marginal velocity at continuous time t
    tt = t.expand(x.shape[0]) if t.dim() else torch.full((x.shape[0],), float(t))
    return (gm.eps(x, tt, flow) - x) / (1 - tt[:, None])


t0, t1 = 0.999, 0.001
ref = (
    solve_ivp(
        lambda t, y: (
            v(torch.from_numpy(y).reshape(-1, 2), torch.tensor(t)).reshape(-1).numpy()
        ),
        (t0, t1),
        x_start.reshape(-1).numpy(),
        method="DOP853",
        rtol=1e-10,
        atol=1e-10,
    )
    .y[:, -1]
    .reshape(-1, 2)
)
errors = {}
for name, solver in (("Euler", flow_euler), ("Heun", flow_heun)):
    errors[name] = []
    for steps in (80, 160, 320):
        x = solver(v, x_start, flow_timesteps(steps, t_start=t0, t_end=t1))
        errors[name].append(float(np.abs(x.numpy() - ref).max()))
    ratios = [a / b for a, b in zip(errors[name], errors[name][1:])]
    print(
        name, [f"{e:.2e}" for e in errors[name]], "ratios", [f"{r:.2f}" for r in ratios]
    )
assert all(1.7 < r < 2.3 for r in np.array(errors["Euler"][:-1]) / errors["Euler"][1:])
assert all(3.4 < r < 4.6 for r in np.array(errors["Heun"][:-1]) / errors["Heun"][1:])
