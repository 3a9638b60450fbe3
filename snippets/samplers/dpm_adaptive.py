# Adaptive step size (DPM-Solver-23): tighter tolerances buy accuracy with more model
# calls.
import torch
from difflearn import DPM_Solver, GaussianMixture, NoiseScheduleVP, model_wrapper

gm = GaussianMixture([[1.0, -1.0], [-1.5, 0.5], [0.0, 2.0]], [0.8, 0.9, 0.7])
ns = NoiseScheduleVP("linear", dtype=torch.float64)
x_T = torch.randn(
    64, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(0)
)
reference = gm.pf_ode_solve(x_T, 1.0, 1e-3, ns)
solver = DPM_Solver(model_wrapper(gm.noise_fn(ns), ns), ns, algorithm_type="dpmsolver")

results = []
for rtol in (0.05, 0.01, 0.002):
    x0 = solver.sample(
        x_T, t_end=1e-3, order=3, method="adaptive", rtol=rtol, atol=1e-4
    )
    results.append((rtol, solver.nfe, (x0 - reference).abs().max().item()))
    print(f"rtol {rtol:<6} NFE {results[-1][1]:4d}  max error {results[-1][2]:.1e}")

nfes, errors = [r[1] for r in results], [r[2] for r in results]
assert nfes[0] < nfes[1] < nfes[2] and errors[0] > errors[1] > errors[2]
