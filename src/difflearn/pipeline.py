r"""Text to image, end to end: tokenizer, text encoder, denoiser, sampler, decoder.

`text_to_image` is the whole of a latent text-to-image pipeline in one function. It
is the loop every Stable Diffusion implementation runs (diffusers'
`StableDiffusionPipeline.__call__`, the original `txt2img.py`), at the scale of the
glyph models:

1. tokenize the prompts, and the empty prompt for classifier-free guidance;
2. run the text encoder once, to the context $c$ and the null context $\varnothing$;
3. draw $z_T \sim \mathcal N(0, I)$ of latent shape `(B, 4, 8, 8)`;
4. integrate the sampling ODE with the guided prediction
   $\hat u = u_\theta(z_t, t, \varnothing) + s\,(u_\theta(z_t, t, c) -
   u_\theta(z_t, t, \varnothing))$ ($u$: noise for a VP model, velocity for a
   rectified flow; guidance is affine in either);
5. decode $\mathcal D(z_0 / s_z)$ with the autoencoder's scaling factor $s_z$.
"""

from __future__ import annotations

import torch

from .data.captions import tokenize
from .latent import decode_latents
from .model_wrapper import model_wrapper
from .samplers import sample
from .samplers.flow import flow_euler, flow_heun, flow_timesteps

FLOW_METHODS = {"euler": flow_euler, "heun": flow_heun}


# --8<-- [start:guided]
def guided(denoiser, context, null_context, guidance_scale: float):
    """The network's output under classifier-free guidance, `fn(z_t, t_input)`: one
    batched call on the null and the real context."""

    def fn(z, t_input):
        both = denoiser(
            torch.cat([z, z]),
            torch.cat([t_input, t_input]),
            torch.cat([null_context, context]),
        )
        u_null, u_cond = both.chunk(2)
        return u_null + guidance_scale * (u_cond - u_null)

    return fn


# --8<-- [end:guided]


# --8<-- [start:text_to_image]
@torch.no_grad()
def text_to_image(
    prompts,
    vae,
    model,
    noise_schedule,
    steps: int = 20,
    guidance_scale: float = 3.0,
    method: str | None = None,
    seed: int = 0,
    return_latents: bool = False,
):
    """Images `(B, 3, 32, 32)` in [-1, 1] for a prompt or a list of prompts.

    `model` is a `TextConditioned` (text encoder + denoiser); `noise_schedule` is the
    `NoiseScheduleVP` of a noise-prediction model or a `FlowSchedule` for a
    rectified flow. `method`: a sampler of `difflearn.samplers.METHODS` (default
    `"dpmsolver++"`) for a VP model, `"euler"` (default) or `"heun"` for a flow.
    """
    prompts = [prompts] if isinstance(prompts, str) else list(prompts)
    p = next(model.parameters())
    tokens = tokenize(prompts).to(p.device)  # 1. (B, L); raises on unknown words
    context = model.text_encoder(tokens)  # 2. (B, L, d)
    null = model.text_encoder(tokenize([""] * len(prompts)).to(p.device))
    fn = guided(model.denoiser, context, null, guidance_scale)
    size = (len(prompts), vae.latent_channels, vae.latent_size, vae.latent_size)
    g = torch.Generator(p.device).manual_seed(seed)
    z = torch.randn(size, generator=g, device=p.device)  # 3. z_T
    if noise_schedule.schedule == "flow":  # 4. dz/dt = v, from t = 1 to t = 0
        method = method or "euler"
        if method not in FLOW_METHODS:
            raise ValueError(
                f"method must be one of {tuple(FLOW_METHODS)} for a flow model, "
                f"got {method!r}"
            )
        velocity = lambda z, t: fn(z, 1000 * t)  # noqa: E731
        z = FLOW_METHODS[method](velocity, z, flow_timesteps(steps))
    else:  # 4. the probability-flow ODE of the VP model, any sampler of the zoo
        eps = model_wrapper(fn, noise_schedule, model_type="noise")
        z = sample(eps, z, noise_schedule, method=method or "dpmsolver++", steps=steps)
    images = decode_latents(vae, z)  # 5. D(z / s)
    return (images, z) if return_latents else images


# --8<-- [end:text_to_image]


__all__ = ["FLOW_METHODS", "guided", "text_to_image"]
