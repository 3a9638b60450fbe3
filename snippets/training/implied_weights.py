# Where each loss looks: the weight it puts on the eps error at each noise level, times
# how often t (or sigma) lands there. Measured through the losses themselves, against
# the formulas integrated over t.
import numpy as np
import torch
from difflearn import NoiseScheduleVP, beta_schedule
from difflearn.training import make_batch_fn
from difflearn.training.edm import EDMDenoiser, edm_loss, make_edm_batch_fn
from difflearn.training.parameterisations import head_target, parameterised_loss

ns = NoiseScheduleVP(
    "discrete", betas=beta_schedule("linear", 1000), dtype=torch.float64
)
n, g = 200_000, torch.Generator().manual_seed(0)
data = torch.zeros(n, 1, dtype=torch.float64)  # the data do not matter here
batch = make_batch_fn(data, ns)(g, n)  # t uniform on the 1000 steps


def off_by_one(prediction):  # a predictor whose eps error is exactly 1 everywhere
    def model(x_t, t_in):
        a, s = batch["alpha"][:, None], batch["sigma"][:, None]
        eps_hat = batch["eps"] + 1.0
        return head_target(
            prediction, (x_t - s * eps_hat) / a, eps_hat, a[:, 0], s[:, 0]
        )

    return model


lam = torch.from_numpy(ns.marginals(batch["t"]).lam)
measured = {}
for name, prediction, weighting in (
    ("eps-MSE", "eps", "none"),
    ("x0-MSE", "x0", "none"),
    ("v-MSE", "v", "none"),
    ("min-SNR-5", "eps", "min_snr"),
    ("ELBO", "eps", "likelihood"),
):
    w = parameterised_loss(
        off_by_one(prediction),
        ns,
        batch,
        prediction=prediction,
        weighting=weighting,
        gamma=5.0,
        reduction="none",
    )
    measured[name] = (w * (lam > 0)).sum().item() / w.sum().item()

# EDM: lambda(sigma) ||D - x0||^2, D off by sigma (an eps error of 1), log-normal sigma
eb = make_edm_batch_fn(data)(g, n)
den = EDMDenoiser(lambda x_in, c: torch.zeros_like(x_in), sigma_data=0.5)
den.forward = lambda x, sigma, y=None: eb["x0"] - sigma[:, None] * 1.0  # noqa: E731
w = edm_loss(den, eb, reduction="none")
measured["EDM"] = (w * (eb["sigma"] < 1)).sum().item() / w.sum().item()

# the same fractions from the formulas, integrated over t (or ln sigma) on a fine grid
t = np.linspace(1e-3, 1.0, 200_001)
lam_t = ns.marginals(t).lam
snr = np.exp(2 * lam_t)
formulas = {
    "eps-MSE": np.ones_like(snr),
    "x0-MSE": 1 / snr,
    "v-MSE": 1 + 1 / snr,
    "min-SNR-5": np.minimum(1.0, 5.0 / snr),
    "ELBO": -np.gradient(lam_t, t),
}
for name, wt in formulas.items():
    expected = np.trapezoid(wt * (lam_t > 0), t) / np.trapezoid(wt, t)
    print(
        f"{name:10s}: share of the weight at SNR > 1: {measured[name]:.3f} "
        f"(formula {expected:.3f})"
    )
    assert abs(measured[name] - expected) < 0.01
ls = np.linspace(-1.2 - 8 * 1.2, -1.2 + 8 * 1.2, 200_001)  # ln sigma ~ N(-1.2, 1.2^2)
dens = np.exp(-0.5 * ((ls + 1.2) / 1.2) ** 2) * (np.exp(2 * ls) + 0.25) / 0.25
expected = np.trapezoid(dens * (ls < 0), ls) / np.trapezoid(dens, ls)
print(
    f"{'EDM':10s}: share of the weight at SNR > 1: {measured['EDM']:.3f} "
    f"(formula {expected:.3f})"
)
assert abs(measured["EDM"] - expected) < 0.01
