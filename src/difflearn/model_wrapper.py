r"""Turn any diffusion model into the noise predictor $\hat\epsilon(x_t, t)$ DPM-Solver
integrates.

`model_wrapper` has the signature and semantics of the function of the same
name in the official DPM-Solver code (Lu et al., 2022a): the same
`model_type` / `guidance_type` options and the same convention for the time a
model is called with.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from .validate import check_choice, check_number

MODEL_TYPES = ("noise", "x_start", "v", "score", "flow")
GUIDANCE_TYPES = ("uncond", "classifier", "classifier-free")


# --8<-- [start:model_input_time]
def model_input_time(noise_schedule, t_continuous: torch.Tensor) -> torch.Tensor:
    r"""The time label a model was trained with, for continuous time $t$.

    A discrete-time model trained on steps $n = 0, \dots, N-1$ sits at
    $t_n = (n + 1)/N$, so it is called with $1000\,(t - 1/N)$ (which is $n$ when
    $N = 1000$); a continuous-time model is called with $t$ itself, and a model of
    the straight (rectified-flow) path with $1000\,t$, as in Stable Diffusion 3.
    """
    if noise_schedule.schedule == "discrete":
        return (t_continuous - 1.0 / noise_schedule.total_N) * 1000.0
    if noise_schedule.schedule == "flow":
        return t_continuous * 1000.0
    return t_continuous


# --8<-- [end:model_input_time]


def _per_sample(v, x: torch.Tensor):
    """Shape a per-sample coefficient (B,) as (B, 1, ..., 1) on `x`'s device (the
    schedule computes on the CPU); floats pass through."""
    return (
        v.to(x.device).reshape((-1,) + (1,) * (x.dim() - 1))
        if torch.is_tensor(v) and v.dim() > 0
        else v
    )


def model_wrapper(
    model: Callable,
    noise_schedule,
    model_type: str = "noise",
    model_kwargs: dict | None = None,
    guidance_type: str = "uncond",
    condition: torch.Tensor | None = None,
    unconditional_condition: torch.Tensor | None = None,
    guidance_scale: float = 1.0,
    classifier_fn=None,
    classifier_kwargs: dict | None = None,
):
    r"""Wrap `model` into `model_fn(x, t_continuous) -> noise` for `DPM_Solver`.

    Args:
        model: called as `model(x, t_input, **model_kwargs)` (or
            `model(x, t_input, cond, **model_kwargs)` for classifier-free guidance),
            where `t_input` comes from `model_input_time`.
        noise_schedule (NoiseScheduleVP): the schedule.
        model_type: what the model predicts: `"noise"` $\epsilon$, `"x_start"` $x_0$,
            `"v"` $v = \alpha_t\epsilon - \sigma_t x_0$ (Salimans & Ho, 2022) or
            `"score"` $\nabla\log p_t$; or, with a `FlowSchedule`, `"flow"`, the
            velocity $v = \epsilon - x_0$ of the straight path. The output is converted
            with

            $$\epsilon = (x - \alpha_t x_0)/\sigma_t = \alpha_t v + \sigma_t x
            = -\sigma_t\nabla\log p_t$$

            ($\epsilon = x + \alpha_t v$ for `"flow"`, where $\alpha_t = 1 - t$).
        model_kwargs: extra keyword arguments for `model`.
        guidance_type: `"uncond"`; `"classifier"` (Dhariwal & Nichol, 2021):
            $\hat\epsilon = \epsilon - s\,\sigma_t \nabla_x \log p_t(y \mid x)$ with
            `classifier_fn(x, t_input, condition, **classifier_kwargs)` returning
            $\log p_t(y \mid x)$; or `"classifier-free"` (Ho & Salimans, 2022):

            $$\hat\epsilon = \epsilon_\varnothing
            + s\,(\epsilon_y - \epsilon_\varnothing),$$

            one batched call on `cat([unconditional_condition, condition])`.
        condition: $y$, the condition for guidance.
        unconditional_condition: $\varnothing$, the null condition for classifier-free
            guidance.
        guidance_scale: $s$.
        classifier_fn (Callable | None): the classifier for `"classifier"` guidance.
        classifier_kwargs: extra keyword arguments for `classifier_fn`.

    The result is `model_fn(x, t_continuous)`, with `t_continuous` of shape `(B,)`. It
    also carries `model_fn.with_marginals(x, t, alpha_t, sigma_t)`, the same function
    with $\alpha_t, \sigma_t$ supplied, which `DPM_Solver` uses so that its step loop
    never re-evaluates the schedule.
    """
    check_choice("model_type", model_type, MODEL_TYPES)
    if model_type == "flow" and getattr(noise_schedule, "schedule", None) != "flow":
        raise ValueError(
            "model_type='flow' (a straight-path velocity) needs a FlowSchedule, got "
            f"{noise_schedule!r}; a VP v-prediction model is model_type='v'"
        )
    if guidance_type not in GUIDANCE_TYPES:
        raise ValueError(
            f"guidance_type must be one of {GUIDANCE_TYPES}, got {guidance_type!r}"
        )
    if guidance_type == "classifier" and classifier_fn is None:
        raise ValueError(
            "classifier_fn must be a callable for guidance_type='classifier', got None"
        )
    if guidance_type != "uncond" and condition is None:
        raise ValueError(
            f"condition must be given for guidance_type={guidance_type!r}, got None"
        )
    # a NaN or inf scale would make the guided output NaN, blamed on the model
    guidance_scale = check_number("guidance_scale", guidance_scale)
    if (
        guidance_type == "classifier-free"
        and unconditional_condition is None
        and guidance_scale != 1.0
    ):
        raise ValueError(
            "unconditional_condition must be given for classifier-free guidance with "
            f"guidance_scale={guidance_scale!r} (got None): pass "
            "unconditional_condition (the null label or empty prompt), or "
            "guidance_scale=1.0 for the plain conditional model"
        )
    if guidance_type == "uncond" and (condition is not None or guidance_scale != 1.0):
        raise ValueError(
            "guidance_type='uncond' ignores condition and guidance_scale, got "
            f"condition={'a tensor' if condition is not None else None}, "
            f"guidance_scale={guidance_scale!r}: pass "
            "guidance_type='classifier-free' or 'classifier' to use them"
        )
    if not callable(model):
        raise TypeError(f"model must be a callable, got {type(model).__name__}")
    model_kwargs = model_kwargs or {}
    classifier_kwargs = classifier_kwargs or {}
    ns = noise_schedule

    # --8<-- [start:noise_pred]
    def noise_pred(x, t_continuous, alpha_t, sigma_t, cond=None):
        t_input = model_input_time(ns, t_continuous)
        out = (
            model(x, t_input, **model_kwargs)
            if cond is None
            else model(x, t_input, cond, **model_kwargs)
        )
        if model_type == "noise":
            return out
        alpha_t, sigma_t = _per_sample(alpha_t, x), _per_sample(sigma_t, x)
        if model_type == "x_start":
            return (x - alpha_t * out) / sigma_t
        if model_type == "v":
            return alpha_t * out + sigma_t * x
        if model_type == "flow":  # x = (1 - t) x0 + t eps and v = eps - x0
            return x + alpha_t * out
        return -sigma_t * out  # score

    # --8<-- [end:noise_pred]

    # --8<-- [start:guidance]
    def with_marginals(x, t_continuous, alpha_t, sigma_t):
        if guidance_type == "uncond":
            return noise_pred(x, t_continuous, alpha_t, sigma_t)
        if guidance_type == "classifier":
            with (
                torch.enable_grad()
            ):  # grad_x log p_t(y | x_t), even inside torch.no_grad()
                x_in = x.detach().requires_grad_(True)
                log_prob = classifier_fn(
                    x_in,
                    model_input_time(ns, t_continuous),
                    condition,
                    **classifier_kwargs,
                )
                cond_grad = torch.autograd.grad(log_prob.sum(), x_in)[0]
            eps = noise_pred(x, t_continuous, alpha_t, sigma_t)
            return eps - guidance_scale * _per_sample(sigma_t, x) * cond_grad
        if guidance_scale == 1.0:
            return noise_pred(x, t_continuous, alpha_t, sigma_t, cond=condition)
        # classifier-free: one batch of 2B, unconditional half first
        x_in, t_in = torch.cat([x, x]), torch.cat([t_continuous, t_continuous])
        a_in = (
            torch.cat([alpha_t, alpha_t])
            if torch.is_tensor(alpha_t) and alpha_t.dim()
            else alpha_t
        )
        s_in = (
            torch.cat([sigma_t, sigma_t])
            if torch.is_tensor(sigma_t) and sigma_t.dim()
            else sigma_t
        )
        c_in = torch.cat([unconditional_condition, condition])
        eps_uncond, eps_cond = noise_pred(x_in, t_in, a_in, s_in, cond=c_in).chunk(2)
        return eps_uncond + guidance_scale * (eps_cond - eps_uncond)

    # --8<-- [end:guidance]

    needs_marginals = model_type != "noise" or guidance_type == "classifier"

    def model_fn(x, t_continuous):
        if needs_marginals:
            alpha_t, sigma_t = (
                ns.marginal_alpha(t_continuous),
                ns.marginal_std(t_continuous),
            )
        else:
            alpha_t = sigma_t = None
        return with_marginals(x, t_continuous, alpha_t, sigma_t)

    model_fn.with_marginals = with_marginals
    return model_fn
