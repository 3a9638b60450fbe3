r"""Likelihoods: exact ones through the probability-flow ODE, and the DDPM bound.

- `difflearn.likelihood.ode`: $\log p$ by the instantaneous change of variables along
  the probability-flow ODE (RK45), with the divergence exact or by Hutchinson's
  estimator; bits per dimension with dequantization
- `difflearn.likelihood.elbo`: the variational bound of a discrete-time DDPM, per sample
"""

from .elbo import ddpm_elbo, discretized_gaussian_log_p
from .ode import (
    Likelihood,
    bits_per_dim,
    divergence_exact,
    divergence_hutchinson,
    draw_probes,
    pf_ode_log_likelihood,
    standard_normal_log_p,
)

__all__ = [
    "Likelihood",
    "bits_per_dim",
    "ddpm_elbo",
    "discretized_gaussian_log_p",
    "divergence_exact",
    "divergence_hutchinson",
    "draw_probes",
    "pf_ode_log_likelihood",
    "standard_normal_log_p",
]
