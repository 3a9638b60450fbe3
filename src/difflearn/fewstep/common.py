r"""What the few-step methods share: per-sample coefficients, $\hat x_0$ from any model,
the DDIM step with per-sample times, and the training batches.

Distillation and consistency losses evaluate a network at a *different* time for every
sample of a batch, so their coefficients are `(B,)` tensors (shaped `(B, 1, ..., 1)` to
broadcast), where a sampler's are Python floats.
"""

from __future__ import annotations

import torch


def column(v: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """A per-sample coefficient `(B,)` as `(B, 1, ..., 1)`, on `x`'s device and
    dtype."""
    return v.reshape((-1,) + (1,) * (x.dim() - 1)).to(x.device, x.dtype)


def check_steps(steps, name: str = "steps") -> int:
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise ValueError(f"{name} must be an int >= 1, got {steps!r}")
    return steps


# --8<-- [start:x0_from_model]
def x0_from_model(model_fn, x, t, alpha, sigma):
    r"""$\hat x_0 = (x_t - \sigma_t\hat\varepsilon(x_t, t))/\alpha_t$ with per-sample
    `t`, `alpha`, `sigma` `(B,)`.

    `model_fn` is what `model_wrapper` returns; its `with_marginals` is used when
    present, so the schedule is never re-evaluated.
    """
    a, s = column(alpha, x), column(sigma, x)
    t = t.to(x.device)
    with_marginals = getattr(model_fn, "with_marginals", None)
    eps = model_fn(x, t) if with_marginals is None else with_marginals(x, t, a, s)
    return (x - s * eps) / a


# --8<-- [end:x0_from_model]


# --8<-- [start:ddim_jump]
def ddim_jump(x, x0, alpha_s, sigma_s, alpha_t, sigma_t):
    r"""The deterministic DDIM step from $s$ to $t$ given $\hat x_0$ (per-sample):

    $$x_t = \alpha_t \hat x_0 + \sigma_t\,\frac{x_s - \alpha_s\hat x_0}{\sigma_s}.$$
    """
    a_s, s_s, a_t, s_t = (column(v, x) for v in (alpha_s, sigma_s, alpha_t, sigma_t))
    return a_t * x0 + s_t * (x - a_s * x0) / s_s


# --8<-- [end:ddim_jump]


def make_index_batch_fn(images: torch.Tensor, labels: torch.Tensor | None = None):
    """`batch(generator, n) -> dict(x0, eps, u[, y])`: data, noise and one uniform
    number `u` in [0, 1) per sample, which a loss turns into a step index (so the
    index can follow a schedule that changes during training, as in iCT).
    """
    if labels is not None and len(labels) != len(images):
        raise ValueError(
            f"labels must have {len(images)} entries (one per image), got {len(labels)}"
        )

    def batch(generator: torch.Generator, n: int) -> dict:
        idx = torch.randint(0, len(images), (n,), generator=generator)
        x0 = images[idx]
        out = {
            "x0": x0,
            "eps": torch.randn(x0.shape, generator=generator, dtype=x0.dtype),
            "u": torch.rand(n, generator=generator, dtype=torch.float64),
        }
        if labels is not None:
            out["y"] = labels[idx]
        return out

    return batch


def unwrap(model):
    """The module inside a `DistributedDataParallel` wrapper (or `model` itself)."""
    return getattr(model, "module", model)


__all__ = ["check_steps", "column", "ddim_jump", "make_index_batch_fn", "x0_from_model"]
