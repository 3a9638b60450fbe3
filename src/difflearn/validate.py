r"""One validation layer for the whole package: bad input raises at once, naming the
parameter, the value and what is allowed.

Every public function checks its arguments with these helpers before any work starts,
so a mistake shows up as a `ValueError` or `TypeError` that says what to change, never
as a NaN twenty steps later, a silent broadcast or a deep torch error:

- `check_int`, `check_number`, `check_choice`: integer, real and categorical parameters
  (a `bool` is not an int, `2.0` is not an int, NaN and inf are not numbers unless
  asked for);
- `check_times`: times inside a schedule's domain (`time_domain`), finite, with finite
  $\alpha_t$, $\sigma_t$;
- `check_tensor`: a tensor argument (type, dimensions, floating dtype, finite values);
- `check_model_output`: a model's output against its input (shape, type), with the fix
  for the common mistakes (a learned-variance model, a missing batch dimension).

The helpers return the value converted (`int`, `float`, a float64 tensor), so a caller
writes `steps = check_int("steps", steps, lo=1)`.
"""

from __future__ import annotations

import math
import numbers

import numpy as np
import torch


# --8<-- [start:check_number]
def _describe(value) -> str:
    return f"{value!r} ({type(value).__name__})"


def check_int(name: str, value, lo: int | None = None, hi: int | None = None) -> int:
    """`value` as an `int` in `[lo, hi]`; `TypeError` for a bool, a float or a
    string.
    """
    if (
        isinstance(value, torch.Tensor)
        and value.ndim == 0
        and not value.is_floating_point()
    ):
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {_describe(value)}")
    value = int(value)
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        allowed = (
            f">= {lo}"
            if hi is None
            else f"<= {hi}"
            if lo is None
            else f"in [{lo}, {hi}]"
        )
        raise ValueError(f"{name} must be an int {allowed}, got {value!r}")
    return value


def check_number(
    name: str,
    value,
    lo: float | None = None,
    hi: float | None = None,
    lo_open: bool = False,
    hi_open: bool = False,
    allow_inf: bool = False,
) -> float:
    """`value` as a finite `float` in the interval from `lo` to `hi`.

    `lo_open` / `hi_open` exclude the end points; `allow_inf` lets $\\pm\\infty$ through
    (if the interval holds it). A 0-dim tensor or a numpy scalar counts as a number.
    """
    if isinstance(value, torch.Tensor) and value.numel() == 1 and value.ndim == 0:
        value = value.item()
    elif isinstance(value, np.ndarray) and value.ndim == 0:
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {_describe(value)}")
    v = float(value)
    left = "(" if lo_open else "["
    right = ")" if hi_open else "]"
    interval = (
        f"{left}{'-inf' if lo is None else lo}, {'inf' if hi is None else hi}{right}"
    )
    if math.isnan(v) or (math.isinf(v) and not allow_inf):
        raise ValueError(f"{name} must be a finite number in {interval}, got {value!r}")
    too_low = lo is not None and (v <= lo if lo_open else v < lo)
    too_high = hi is not None and (v >= hi if hi_open else v > hi)
    if too_low or too_high:
        raise ValueError(f"{name} must lie in {interval}, got {value!r}")
    return v


def check_choice(name: str, value, allowed) -> None:
    """Raise unless `value` is one of `allowed`."""
    if isinstance(value, bool) or value not in tuple(allowed):
        raise ValueError(f"{name} must be one of {tuple(allowed)}, got {value!r}")


# --8<-- [end:check_number]


def check_tensor(
    name: str,
    x,
    min_dim: int = 1,
    floating: bool = True,
    finite: bool = True,
) -> torch.Tensor:
    """Raise unless `x` is a tensor of at least `min_dim` dimensions (floating point,
    finite).

    The finite check reads one bool back from the device: call it once per call of a
    public function, never inside a loop.
    """
    if not isinstance(x, torch.Tensor):
        hint = " (convert it with torch.as_tensor)" if isinstance(x, np.ndarray) else ""
        raise TypeError(f"{name} must be a torch.Tensor, got {type(x).__name__}{hint}")
    if x.ndim < min_dim:
        raise ValueError(
            f"{name} must have at least {min_dim} dimension(s) (a batch first), "
            f"got shape {tuple(x.shape)}"
        )
    if floating and not x.is_floating_point():
        raise TypeError(f"{name} must have a floating-point dtype, got {x.dtype}")
    if finite and x.numel() and not bool(torch.isfinite(x).all()):
        bad = int((~torch.isfinite(x)).sum())
        raise ValueError(f"{name} must be finite, got {bad} NaN or inf value(s)")
    return x


# --8<-- [start:check_images]
def check_images(name: str, x) -> torch.Tensor:
    """Raise unless `x` is a finite float image batch `(B, C, H, W)` meant to be in
    [-1, 1].

    Samples may overshoot the range (the metrics clamp them); what is refused is the
    common mistake of another convention: integer images (uint8 0..255), float images
    in [0, 1] or in [0, 255] — each with the conversion that fixes it.
    """
    if isinstance(x, torch.Tensor) and not x.is_floating_point():
        raise TypeError(
            f"{name} must be float images in [-1, 1], got dtype {x.dtype} (0..255?): "
            "convert with x.float() / 127.5 - 1"
        )
    check_tensor(name, x, min_dim=4)
    lo, hi = float(x.min()), float(x.max())
    if x.numel() > 1 and lo >= 0.0 and hi <= 1.0:
        raise ValueError(
            f"{name} must be in [-1, 1]; got values in [0, 1] ({lo:.3g}..{hi:.3g}): "
            "convert with 2 * x - 1"
        )
    if lo >= 0.0 and hi > 2.0:
        raise ValueError(
            f"{name} must be in [-1, 1]; got values in [{lo:.4g}, {hi:.4g}] (0..255?): "
            "convert with x / 127.5 - 1"
        )
    return x


def check_labels(name: str, labels, n: int) -> torch.Tensor:
    """Raise unless `labels` is an integer tensor of shape `(n,)`."""
    if not isinstance(labels, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(labels).__name__}")
    if labels.shape != (n,):
        hint = " (flatten it: labels.reshape(-1))" if labels.numel() == n else ""
        raise ValueError(
            f"{name} must have shape ({n},), one class per image, got "
            f"{tuple(labels.shape)}{hint}"
        )
    if labels.is_floating_point() or labels.is_complex():
        raise TypeError(f"{name} must hold integer classes, got dtype {labels.dtype}")
    return labels


# --8<-- [end:check_images]


# --8<-- [start:check_times]
def time_domain(schedule) -> tuple[float, float]:
    """`[t_lo, t_hi]`, the times at which `schedule` is defined.

    A schedule says so with a `time_domain` attribute; otherwise a discrete
    `NoiseScheduleVP` is defined on `[1/N, 1]` (its table starts at the first training
    step) and any other schedule on `[0, T]`.
    """
    own = getattr(schedule, "time_domain", None)
    if own is not None:
        return own() if callable(own) else tuple(own)
    if getattr(schedule, "schedule", None) == "discrete":
        return 1.0 / schedule.total_N, 1.0
    return 0.0, float(schedule.T)


def as_times(t, name: str = "t") -> torch.Tensor:
    """`t` (a number, list, array or tensor) as a 1-D float64 CPU tensor of finite
    times.
    """
    if isinstance(t, torch.Tensor):
        if t.is_complex() or t.dtype == torch.bool:
            raise TypeError(f"{name} must hold real times, got dtype {t.dtype}")
        t64 = t.detach().to("cpu", torch.float64).reshape(-1)
    else:
        try:
            t64 = torch.as_tensor(np.asarray(t, dtype=np.float64)).reshape(-1)
        except (TypeError, ValueError) as err:
            raise TypeError(f"{name} must hold real times, got {t!r}") from err
    if t64.numel():
        lo, hi = (float(v) for v in torch.aminmax(t64))  # one pass; NaN propagates
        if not (math.isfinite(lo) and math.isfinite(hi)):
            raise ValueError(f"{name} must be finite, got {t64.tolist()[:8]}")
    return t64


def check_times(schedule, t, name: str = "t", lo: float | None = None) -> torch.Tensor:
    r"""`t` as a float64 tensor, or a `ValueError` if a time lies outside the schedule's
    domain (or below `lo`).

    Outside the domain a discrete table is extrapolated and $\sigma_t$ becomes NaN, or a
    continuous formula returns finite garbage; neither may reach a sampler. The lower
    end has a relative slack of 1e-6, so $1/N$ rounded to float32 is inside.
    """
    t64 = as_times(t, name)
    t_lo, t_hi = time_domain(schedule)
    if lo is not None:
        t_lo = max(t_lo, lo)
    if t64.numel():
        t_min, t_max = (float(v) for v in torch.aminmax(t64))
        below = t_min < t_lo * (1 - 1e-6)
        if below or t_max > t_hi * (1 + 1e-12):
            where = "below" if below else "above"
            hint = (
                f" (a discrete schedule starts at its first training step, t = 1/N = "
                f"{t_lo:.6g})"
                if below and getattr(schedule, "schedule", None) == "discrete"
                else ""
            )
            got = (
                f"{t_min!r}"
                if t64.numel() == 1
                else f"values in [{t_min!r}, {t_max!r}]"
            )
            raise ValueError(
                f"{name} must lie in [{t_lo:.6g}, {t_hi:.6g}] for {schedule!r}, got "
                f"{got} ({where} the domain){hint}"
            )
    return t64


# --8<-- [end:check_times]


# --8<-- [start:check_model_output]
def check_model_output(out, x: torch.Tensor, where: str = "the model") -> None:
    """Raise unless `out` is a tensor shaped like `x` (the first model call of a
    sampler).

    Shapes are metadata: the check reads nothing back from the device.
    """
    if not isinstance(out, torch.Tensor):
        raise TypeError(
            f"{where} must return a torch.Tensor shaped like x {tuple(x.shape)}, got "
            f"{type(out).__name__}"
        )
    if out.shape == x.shape:
        return
    hint = ""
    if out.ndim == x.ndim and out.ndim >= 2 and out.shape[0] == x.shape[0]:
        if out.shape[1] == 2 * x.shape[1] and out.shape[2:] == x.shape[2:]:
            hint = (
                ": a learn_sigma model returns 2C channels (noise and variance); "
                f"wrap it with eps_only(model, channels={x.shape[1]}) "
                "(difflearn.models.adm.learn_sigma)"
            )
    elif out.numel() == 0 or out.ndim == 0 or out.shape[0] != x.shape[0]:
        hint = (
            f": the output must have one row per sample (batch {x.shape[0]}); it would "
            "be broadcast over the batch"
        )
    raise ValueError(
        f"{where} must return a tensor of shape {tuple(x.shape)} (that of x), got "
        f"{tuple(out.shape)}{hint}"
    )


# --8<-- [end:check_model_output]


__all__ = [
    "as_times",
    "check_choice",
    "check_images",
    "check_labels",
    "check_int",
    "check_model_output",
    "check_number",
    "check_tensor",
    "check_times",
    "time_domain",
]
