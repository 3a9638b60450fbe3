# Zero terminal SNR: what eps-prediction loses at lambda = -inf, what v keeps,
# and what the samplers do about alpha_T = 0.
import torch
from difflearn import GaussianMixture, NoiseScheduleVP, sample
from difflearn.samplers import flow_heun, flow_timesteps
from difflearn.schedules import FlowSchedule
from difflearn.training import make_batch_fn
from difflearn.training.parameterisations import head_to_x0, parameterised_loss

gm = GaussianMixture([[1.0, -1.0], [-1.5, 0.5], [0.0, 2.0]], [0.3, 0.5, 0.2])
ns = NoiseScheduleVP("linear", dtype=torch.float64)

# 1. an error delta in the head becomes an error in x0-hat of sigma/alpha * delta (eps)
#    or sigma * delta (v): at the official clip lambda = -5.1, 164x against 1x
alpha = torch.tensor([1 / (1 + torch.e**10.2) ** 0.5], dtype=torch.float64)
sigma = (1 - alpha**2).sqrt()
x_t, zero = (
    torch.zeros(1, 1, dtype=torch.float64),
    torch.zeros(1, 1, dtype=torch.float64),
)
for head in ("eps", "v"):
    err = head_to_x0(head, zero + 1e-2, x_t, alpha, sigma) - head_to_x0(
        head, zero, x_t, alpha, sigma
    )
    print(f"{head:3s} head: an error of 0.01 moves x0-hat by {err.abs().item():.3g}")
    assert (
        abs(
            err.abs().item() / 1e-2 - (sigma / alpha if head == "eps" else sigma).item()
        )
        < 1e-9
    )

# 2. at (almost) zero SNR the eps objective is trivially ~0, the v objective is Var(x0):
#    the v head has to learn the data mean, the eps head learns nothing about x0
w, mu, s = gm.weights, gm.means, gm.stds
mean = (w[:, None] * mu).sum(0)
var_x0 = float(
    (w * ((mu**2).sum(1) + 2 * s**2)).sum() - (mean**2).sum()
)  # trace Cov(x0)
g = torch.Generator().manual_seed(0)
batch = make_batch_fn(
    gm.sample(100_000, g),
    ns,
    sample_times=lambda g, n: torch.ones(n, dtype=torch.float64),
)(g, 100_000)


def oracle(head):  # the Bayes-optimal head of the exact mixture
    def model(x, t):
        a, sg = batch["alpha"][:, None], batch["sigma"][:, None]
        e, x0 = gm.eps(x, t, ns), gm.x0(x, t, ns)
        return e if head == "eps" else a * e - sg * x0

    return model


snr_T = float(batch["alpha"][0] / batch["sigma"][0]) ** 2
for head in ("eps", "v"):  # twice the per-dimension mean: the sum over D = 2
    loss = 2 * parameterised_loss(oracle(head), ns, batch, prediction=head).item()
    print(
        f"{head:3s} head at t = 1 (SNR {snr_T:.1e}): "
        f"minimal loss {loss:.4f} (trace Cov(x0) = {var_x0:.4f})"
    )
assert 2 * parameterised_loss(oracle("eps"), ns, batch, prediction="eps").item() < 1e-3
assert (
    abs(
        2 * parameterised_loss(oracle("v"), ns, batch, prediction="v").item() / var_x0
        - 1
    )
    < 0.02
)

# 3. the samplers: alpha_T = 0 (the straight path at t = 1) is refused, naming the fixes
flow, x_T = FlowSchedule(), torch.randn(64, 2, dtype=torch.float64, generator=g)
try:
    sample(gm.noise_fn(flow), x_T, flow, method="dpmsolver++", steps=10)
    raise AssertionError("expected a ValueError")
except ValueError as e:
    assert "alpha_t = 0" in str(e) and "t_start" in str(e) and "flow_euler" in str(e)
# the velocity samplers can start at t = 1 (the mixture's own x0 divides by alpha, so
# the reference starts at 1 - 1e-9); the zoo starts just below, at t = 0.999
velocity = lambda x, t: gm.eps(x, t, flow) - gm.x0(x, t, flow)  # noqa: E731
ref = flow_heun(
    velocity,
    x_T,
    flow_timesteps(400, t_start=1 - 1e-9),
)
exact = gm.pf_ode_solve(x_T, 0.999, 1e-4, flow)  # the exact ODE from t = 0.999
x = sample(
    gm.noise_fn(flow),
    x_T,
    flow,
    method="dpmsolver++",
    steps=100,
    t_start=0.999,
    t_end=1e-4,
    skip_type="logSNR",
)
start, solver = ((v - ref).norm(dim=1).mean().item() for v in (exact, x))
print(
    f"starting at t = 0.999 instead of 1 moves the samples by {start:.1e}; "
    f"DPM-Solver++(2M), 100 steps from there: {solver:.1e}"
)
assert start < 2e-3 and solver < 5e-3
