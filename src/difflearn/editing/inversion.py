r"""DDIM inversion under classifier-free guidance, and null-text inversion (Mokady et
al., 2023), which makes guided reconstruction exact again.

DDIM inversion (`difflearn.samplers.ddim_inversion`) runs the deterministic DDIM step
backwards, $x_{t_{i+1}} = c_x x_{t_i} + c_\varepsilon\hat\varepsilon(x_{t_i}, t_i)$:
it uses the noise prediction at the *start* of the step where sampling will use the one
at the other end, $\hat\varepsilon(x_{t_{i+1}}, t_{i+1})$. The round trip is exact only
as far as $\hat\varepsilon$ barely changes over a step, which more steps buy. Under
classifier-free guidance the prediction is
$\hat\varepsilon_w = \hat\varepsilon_\varnothing + w(\hat\varepsilon_y -
\hat\varepsilon_\varnothing)$, and the change over a step grows with $w$: the
reconstruction drifts away from the input.

Null-text inversion keeps the unguided ($w = 1$) inversion $x^*_{t_0}, \dots,
x^*_{t_N}$ as a pivot and, from the noisiest step down, tunes the embedding of the null
condition $\varnothing_i$ of each step so that one guided DDIM step from the current
state lands on the pivot's next point (their Algorithm 1):

$$\varnothing_i = \arg\min_{\varnothing}\ \big\|x^*_{t_{i+1}}
- \mathrm{DDIM}_w(\bar x_{t_i}, t_i \to t_{i+1};\ y, \varnothing)\big\|^2 .$$

Here the "text" is a class label: the null condition is the row `null_class` of the
label-embedding table, replaced per sample and per step.
"""

from __future__ import annotations

import torch
from torch.func import functional_call

from ..model_wrapper import model_input_time
from ..samplers.core import make_grid
from ..samplers.ddim import ddim_coefficients, ddim_inversion


# --8<-- [start:guided_eps]
def guided_eps(
    model,
    noise_schedule,
    x,
    t,
    condition,
    null_embedding,
    guidance_scale,
    embedding: str = "label_emb.weight",
):
    r"""$\hat\varepsilon_\varnothing
    + w(\hat\varepsilon_y - \hat\varepsilon_\varnothing)$ for a noise-prediction
    `model(x, t_input, y)` whose null condition's embedding is `null_embedding`
    `(B, E)`, one row per sample (one batched call of 2B)."""
    table = model.get_parameter(embedding)  # (classes, E)
    B, n_classes = x.shape[0], table.shape[0]
    table = torch.cat([table, null_embedding.to(table)])  # + one null row per sample
    null_ids = n_classes + torch.arange(B, device=x.device)
    t_in = model_input_time(noise_schedule, t).expand(B).to(x.dtype)
    args = (
        torch.cat([x, x]),
        torch.cat([t_in, t_in]),
        torch.cat([null_ids, condition]),
    )
    eps_null, eps_y = functional_call(model, {embedding: table}, args).chunk(2)
    return eps_null + guidance_scale * (eps_y - eps_null)


# --8<-- [end:guided_eps]


def null_embedding(model, null_class: int, batch: int, embedding="label_emb.weight"):
    """The trained null condition's embedding, repeated for `batch` samples `(B, E)`."""
    return model.get_parameter(embedding)[null_class].detach().expand(batch, -1).clone()


def guided_ddim(
    model,
    noise_schedule,
    x,
    timesteps,
    condition,
    null_embeddings,
    guidance_scale,
    embedding: str = "label_emb.weight",
):
    r"""Deterministic DDIM along `timesteps` with guidance; `null_embeddings` is one
    `(B, E)` tensor per step, as `null_text_inversion` returns (or the same for
    all)."""
    grid = make_grid(noise_schedule, timesteps, x)
    c_x, c_eps, _ = (v.tolist() for v in ddim_coefficients(grid.alpha, grid.sigma))
    for i in range(grid.steps):
        eps = guided_eps(
            model,
            noise_schedule,
            x,
            grid.t_model[i],
            condition,
            null_embeddings[i],
            guidance_scale,
            embedding,
        )
        x = c_x[i] * x + c_eps[i] * eps
    return x


# --8<-- [start:null_text_inversion]
def null_text_inversion(
    model,
    noise_schedule,
    x0,
    timesteps,
    condition,
    null_class: int,
    guidance_scale: float,
    inner_steps: int = 10,
    lr: float = 1e-1,
    tol: float = 1e-5,
    embedding: str = "label_emb.weight",
):
    r"""Invert `x0` for guided reconstruction: returns `(x_T, null_embeddings)` such
    that `guided_ddim(model, ns, x_T, timesteps, condition, null_embeddings, w)`
    gives back `x0` (up to the optimisation's tolerance).

    The pivot is DDIM inversion with the unguided conditional model ($w = 1$); per step,
    at most `inner_steps` Adam steps of rate `lr` on the null embedding, stopping once
    the mean squared miss is below `tol` (Mokady et al., 2023). Their rate, 1e-2, moves
    the shipped digits model's label embeddings (rows of norm about 11) too little in
    10 steps; 1e-1 is the default here (benchmarks/editing.py measures both).
    """
    timesteps = torch.as_tensor(timesteps)
    grid = make_grid(noise_schedule, timesteps, x0)
    c_x, c_eps, _ = (v.tolist() for v in ddim_coefficients(grid.alpha, grid.sigma))
    null = null_embedding(model, null_class, x0.shape[0], embedding)
    pivot = [None] * (grid.steps + 1)  # x*_{t_i}, i = 0 (noisiest) .. N (data)

    def keep(d):  # ddim_inversion walks t_N -> t_0: point i of the inverse grid
        pivot[grid.steps - d["i"]] = d["x_t"]

    cond_fn = lambda x, t: guided_eps(  # noqa: E731  w = 1: the conditional model
        model, noise_schedule, x, t, condition, null, 1.0, embedding
    )
    with torch.no_grad():
        pivot[0] = ddim_inversion(cond_fn, x0, noise_schedule, timesteps.flip(0), keep)
    x, nulls = pivot[0], []
    for i in range(grid.steps):
        # a copy: Adam updates in place, and the previous steps' embeddings are kept
        null = null.detach().clone().requires_grad_(True)
        opt = torch.optim.Adam([null], lr=lr)
        for _ in range(inner_steps):
            eps = guided_eps(
                model,
                noise_schedule,
                x,
                grid.t_model[i],
                condition,
                null,
                guidance_scale,
                embedding,
            )
            miss = (c_x[i] * x + c_eps[i] * eps - pivot[i + 1]).pow(2).mean()
            if miss.item() < tol:
                break
            opt.zero_grad()
            miss.backward()
            opt.step()
        null = null.detach()
        nulls.append(null)
        with torch.no_grad():
            eps = guided_eps(
                model,
                noise_schedule,
                x,
                grid.t_model[i],
                condition,
                null,
                guidance_scale,
                embedding,
            )
            x = c_x[i] * x + c_eps[i] * eps
    return pivot[0], nulls


# --8<-- [end:null_text_inversion]


__all__ = ["guided_ddim", "guided_eps", "null_embedding", "null_text_inversion"]
