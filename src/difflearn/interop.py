r"""Run a diffusers `UNet2DModel` on difflearn's solvers.

A diffusers pipeline is a network plus a scheduler config. The config fixes the
training betas $\beta_0, \dots, \beta_{N-1}$, hence the discrete schedule
$\bar\alpha_n = \prod_{i \le n}(1 - \beta_i)$ that `NoiseScheduleVP("discrete")`
interpolates in continuous time, and what the network predicts
(`prediction_type`). `from_diffusers` returns the pair that `model_wrapper`
and `DPM_Solver` take:

```python
model_fn, ns = from_diffusers(unet, scheduler.config)
fn = model_wrapper(model_fn, ns, model_type=model_fn.model_type)
x0 = DPM_Solver(fn, ns).sample(x_T, steps=20)
```

diffusers is only needed to build the network; this module does not import it.
"""

from __future__ import annotations

import torch

from .schedules import (
    NoiseScheduleVP,
    alphas_cumprod_from_betas,
    beta_schedule,
    rescale_zero_terminal_snr,
)

# diffusers' prediction_type -> model_type of model_wrapper
PREDICTIONS = {"epsilon": "noise", "v_prediction": "v", "sample": "x_start"}
# diffusers' beta_schedule -> ours
BETAS = {
    "linear": "linear",
    "scaled_linear": "scaled_linear",
    "squaredcos_cap_v2": "cosine",
}


def _config(scheduler_config) -> dict:
    config = getattr(
        scheduler_config, "config", scheduler_config
    )  # a scheduler, or its config
    if isinstance(config, (str, bytes)) or not hasattr(config, "keys"):
        raise TypeError(
            "scheduler_config must be a diffusers scheduler, its config or a dict, got "
            f"{config!r}: nothing is downloaded or read from disk here; load the "
            "scheduler (or json.load its scheduler_config.json) first"
        )
    return dict(config)


# --8<-- [start:schedule_from_diffusers]
def schedule_from_diffusers(scheduler_config) -> NoiseScheduleVP:
    """The discrete `NoiseScheduleVP` of a diffusers scheduler (or its config)."""
    cfg = _config(scheduler_config)
    N = int(cfg.get("num_train_timesteps", 1000))
    if cfg.get("trained_betas") is not None:
        betas = torch.as_tensor(cfg["trained_betas"], dtype=torch.float64)
    else:
        name = cfg.get("beta_schedule", "linear")
        if name not in BETAS:
            raise ValueError(
                f"beta_schedule must be one of {tuple(BETAS)}, got {name!r}"
            )
        if name == "squaredcos_cap_v2":
            betas = beta_schedule("cosine", N)
        else:
            betas = beta_schedule(
                BETAS[name], N, cfg.get("beta_start", 1e-4), cfg.get("beta_end", 0.02)
            )
    if cfg.get("rescale_betas_zero_snr", False):
        # the last step has alpha = 0 exactly: make it tiny but positive
        # (diffusers' samplers use 2^-24); the lambda clip of NoiseScheduleVP
        # drops it anyway
        alphas_cumprod = alphas_cumprod_from_betas(rescale_zero_terminal_snr(betas))
        alphas_cumprod[-1] = min(2.0**-24, float(alphas_cumprod[-2]) / 2)
        return NoiseScheduleVP("discrete", alphas_cumprod=alphas_cumprod)
    return NoiseScheduleVP("discrete", betas=betas)


# --8<-- [end:schedule_from_diffusers]


# --8<-- [start:from_diffusers]
def from_diffusers(unet, scheduler_config):
    r"""Wrap a diffusers `UNet2DModel` and its scheduler config as
    `(model_fn, noise_schedule)`.

    `model_fn(x, t_input, **kwargs)` calls `unet(x, t_input, **kwargs).sample`
    (pass `class_labels=` for a class-conditional network) and keeps only the
    first `in_channels` channels when the network also outputs a variance.
    `model_fn.model_type` is the `model_type` to give `model_wrapper`.

    `model_wrapper` labels discrete time as $1000\,(t - 1/N)$, which is the
    training step $n$ only when $N = 1000$; `model_fn` rescales it to $n$, so
    schedules with another $N$, or whose last steps `NoiseScheduleVP` drops
    (the cosine one: $\lambda_t < -5.1$), call the network at the right step.
    """
    cfg = _config(scheduler_config)
    prediction = cfg.get("prediction_type", "epsilon")
    if prediction not in PREDICTIONS:
        raise ValueError(
            f"prediction_type must be one of {tuple(PREDICTIONS)}, got {prediction!r}"
        )
    channels = unet.config.in_channels
    ns = schedule_from_diffusers(cfg)
    # model_wrapper passes t_input = 1000 (t - 1/N) for t_n = (n + 1)/N;
    # the network wants n
    steps_per_unit = ns.total_N / 1000.0

    def model_fn(x: torch.Tensor, t_input: torch.Tensor, **kwargs) -> torch.Tensor:
        n = (
            torch.as_tensor(t_input, device=x.device).expand(x.shape[0])
            * steps_per_unit
        )
        out = unet(x, n, **kwargs).sample  # (B, C or 2C, H, W)
        return out[:, :channels]

    model_fn.model_type = PREDICTIONS[prediction]
    return model_fn, ns


# --8<-- [end:from_diffusers]
