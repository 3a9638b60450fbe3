"""Two guarantees of difflearn, checked: bad input fails at once with an error that
names the parameter and the fix, and an interrupted or mixed checkpoint is refused.
"""

import tempfile
from pathlib import Path

import torch
from difflearn import GaussianMixture, NoiseScheduleVP, TrainConfig, sample
from difflearn.models.adm.learn_sigma import eps_only
from difflearn.training import fit
from difflearn.training.checkpoints import CheckpointError, find_checkpoint

ns = NoiseScheduleVP("discrete", betas=torch.linspace(1e-4, 0.02, 1000))
gm = GaussianMixture([[-2.0], [2.0]], 0.5)
eps = gm.noise_fn(ns)  # the exact noise prediction
x_T = torch.randn(
    256, 1, generator=torch.Generator().manual_seed(0), dtype=torch.float64
)

# 1. A time off the schedule: the discrete table starts at t = 1/N, and below it
#    sigma_t would be NaN. The error names the parameter, the value and the domain.
try:
    sample(eps, x_T, ns, "ddim", steps=10, t_end=0.0)
    raise AssertionError("t_end=0 must be refused")
except ValueError as err:
    print(err)
    assert "t_end" in str(err) and "1/N" in str(err)


# A learned-variance network returns 2C channels (noise, variance): the first model call
# is checked against x's shape, and the error says how to fix it.
def learn_sigma_model(x, t):
    return torch.cat([eps(x, t), torch.zeros_like(x)], dim=1)  # (B, 2C)


try:
    sample(learn_sigma_model, x_T, ns, "unipc", steps=10)
    raise AssertionError("a (B, 2C) output must be refused")
except ValueError as err:
    assert "eps_only" in str(err)
fixed = sample(eps_only(learn_sigma_model, channels=1), x_T, ns, "unipc", steps=10)
assert torch.equal(fixed, sample(eps, x_T, ns, "unipc", steps=10))  # exactly the same

# 2. Checkpoints are one atomic unit, verified on resume: weights from a later save put
#    next to the optimizer state of an earlier one are refused, not silently resumed.
batch = lambda g, n: {"x": torch.randn(n, 2, generator=g)}  # noqa: E731
loss = lambda m, b: (m(b["x"]) - b["x"]).pow(2).mean()  # noqa: E731
cfg = dict(batch_size=8, warmup=1, progress=False, log_every=1, checkpoint_every=1)
with tempfile.TemporaryDirectory() as d:
    early, late = Path(d, "early"), Path(d, "late")
    fit(torch.nn.Linear(2, 2), loss, batch, TrainConfig(steps=2, **cfg), early, "cpu")
    fit(torch.nn.Linear(2, 2), loss, batch, TrainConfig(steps=3, **cfg), late, "cpu")
    weights = find_checkpoint(late) / "model.safetensors"
    (find_checkpoint(early) / "model.safetensors").write_bytes(weights.read_bytes())
    try:
        fit(
            torch.nn.Linear(2, 2),
            loss,
            batch,
            TrainConfig(steps=4, **cfg),
            early,
            "cpu",
        )
        raise AssertionError("a mixed checkpoint must be refused")
    except CheckpointError as err:
        print(err)
        assert "manifest" in str(err)
