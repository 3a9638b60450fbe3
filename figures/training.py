"""Figures for the training chapters: implied weights over lambda, EDM preconditioning, modern schedules."""

import matplotlib.pyplot as plt
import numpy as np
import torch

from figures._style import PALETTE, apply_style

DEPENDS = ["src/difflearn/training/parameterisations.py", "src/difflearn/training/edm.py",
           "src/difflearn/training/flow.py", "src/difflearn/schedules/flow.py", "src/difflearn/schedules/betas.py",
           "src/difflearn/schedules/vp.py"]
SEED = 0
FIGURES = {
    "training-implied-weights": {
        "alt": "Log-scale plot of the weight each training objective puts on the noise-prediction error "
               "at each half log-SNR lambda, from -8 to 8, each normalised to unit area. The ELBO is flat "
               "between -5 and 4.6. The eps-MSE with uniform t is broad, highest around lambda = -1 to 0, "
               "and falls at high lambda. The x0 and v losses rise steeply towards low lambda. min-SNR-5 "
               "follows the eps-MSE up to lambda = 0.8 and then drops. EDM and rectified flow with "
               "logit-normal t are bumps peaking near lambda = -1.7.",
        "caption": "Implied weight over λ, in the units of the noise error ‖ε̂ − ε‖² (the ELBO's units, "
                   "where it is flat): the loss's weight times the density of λ that t- or σ-sampling "
                   "produces; continuous linear VP schedule with t uniform for the ε, x₀, v and min-SNR "
                   "losses; EDM with σ_data = 0.5 and ln σ ~ N(−1.2, 1.2²); rectified flow's velocity loss "
                   "with logit-normal t. Each curve has unit area on the plotted range.",
    },
    "training-edm-preconditioning": {
        "alt": "Plot against the noise level sigma from 0.002 to 80 on a log axis of EDM's c_skip, c_out "
               "and c_in for sigma_data = 0.5. c_skip falls from 1 to 0 around sigma = 0.5, c_out rises "
               "like sigma then levels off at 0.5, c_in falls like 1/sigma. A shaded curve shows the "
               "log-normal training density of sigma, centred at 0.3.",
        "caption": "EDM's preconditioning for σ_data = 0.5: below σ_data the network mostly corrects the "
                   "skip connection (c_skip → 1, the denoiser is nearly the identity), above it the "
                   "network predicts x₀ itself (c_skip → 0, c_out → σ_data). Shaded: the training density "
                   "of σ (ln σ ~ N(−1.2, 1.2²)).",
    },
    "schedules-modern-lambda": {
        "alt": "Plot of the half log-SNR lambda against t from 0 to 1 for Stable Diffusion's scaled-linear "
               "schedule, the same schedule rescaled to zero terminal SNR, whose lambda plunges to minus "
               "infinity at t = 1, and the rectified-flow path with shift 1 and shift 3, which are the same "
               "curve moved down by log 3.",
        "caption": "Modern schedules in λ: the zero-terminal-SNR rescaling changes only the last steps "
                   "(λ → −∞ at t = 1); SD3's shift of t by a = 3 is a constant shift of λ by −log 3 — "
                   "the same as multiplying the SNR by 1/9, simple diffusion's recipe for a 3× larger "
                   "image.",
    },
    "schedules-modern-logit-normal": {
        "alt": "Two panels. Left: densities of the training time t: uniform, logit-normal(0, 1) peaked at "
               "t = 0.5, and logit-normal after the shift 3, peaked near t = 0.75. Right: the same three as "
               "densities of lambda: the logit-normal ones are normal curves, centred at 0 and at -log 3.",
        "caption": "Logit-normal time sampling (SD3) on the rectified-flow path is normal sampling of λ: "
                   "λ = −logit(t), so t = sigmoid(m + s z) gives λ ~ N(−m, s²); the shift moves it by "
                   "−log a. Histograms of 200 000 draws of `sample_t_flow`; lines: the formulas.",
    },
}


def render(quick: bool, device: str) -> dict:
    from difflearn import NoiseScheduleVP
    from difflearn.schedules import alphas_cumprod_from_betas, beta_schedule, rescale_zero_terminal_snr
    from difflearn.training.edm import edm_preconditioning
    from difflearn.training.flow import sample_t_flow

    apply_style()
    lam = np.linspace(-8, 8, 1601)
    snr = np.exp(2 * lam)
    # density of lambda under t ~ U[1e-3, 1] on the continuous linear VP schedule
    ns = NoiseScheduleVP("linear", dtype=torch.float64)
    t = np.linspace(1e-3, 1.0, 200_001)
    lam_t = ns.marginals(t).lam
    order = np.argsort(lam_t)
    dt_dlam = np.interp(lam, lam_t[order], -1 / np.gradient(lam_t, t)[order], left=0.0, right=0.0)
    edm = np.exp(-0.5 * ((-lam + 1.2) / 1.2) ** 2) * (1 + np.exp(-2 * lam) / 0.25)  # ln sigma = -lambda
    flow = np.exp(-0.5 * lam**2) * (1 + np.exp(-lam)) ** 2  # logit-normal t: lambda ~ N(0, 1)
    elbo = ((lam >= lam_t.min()) & (lam <= lam_t.max())).astype(float)
    curves = [("ELBO (likelihood weighting)", elbo, "--"), ("ε-MSE, t uniform", dt_dlam, "-"),
              ("x₀-MSE, t uniform", dt_dlam / snr, "-"), ("v-MSE, t uniform", dt_dlam * (1 + 1 / snr), "-"),
              ("min-SNR-5 (ε head)", dt_dlam * np.minimum(1, 5 / snr), "-"), ("EDM", edm, "-"),
              ("rectified flow, logit-normal t", flow, "-")]
    fig1, ax = plt.subplots(figsize=(7.4, 4.6))
    for k, (name, w, style) in enumerate(curves):
        w = w / np.trapezoid(w, lam)
        color = PALETTE[[0, 1, 2, 3, 4, 5, 7][k]]  # no yellow on a light card
        ax.semilogy(lam, np.where(w > 0, w, np.nan), style, color=color, label=name)
    ax.set_ylim(1e-5, 1e3)  # headroom: the legend sits above every curve
    ax.set_xlabel("λ = log(α/σ)   (noisier ←  → cleaner)")
    ax.set_ylabel("weight × density (unit area)")
    ax.legend(fontsize=9, loc="upper right")

    sig = np.logspace(np.log10(0.002), np.log10(80), 400)
    c_skip, c_out, c_in, _ = (v.numpy() for v in edm_preconditioning(torch.as_tensor(sig), 0.5))
    fig2, ax2 = plt.subplots(figsize=(7.0, 4.2))
    dens = np.exp(-0.5 * ((np.log(sig) + 1.2) / 1.2) ** 2)
    ax2.fill_between(sig, 0, dens / dens.max(), color="lightgrey", label="training density of σ (scaled)")
    for k, (name, v) in enumerate((("c_skip", c_skip), ("c_out", c_out), ("c_in", c_in))):
        ax2.loglog(sig, v, color=PALETTE[k], label=name)
    ax2.set_xscale("log")
    ax2.set_yscale("log")
    ax2.set_ylim(1e-3, 3)
    ax2.axvline(0.5, color="grey", lw=0.7, ls=":")
    ax2.set_xlabel("σ")
    ax2.legend(fontsize=9, loc="center left", bbox_to_anchor=(1.0, 0.5))  # beside the axes

    fig3, ax3 = plt.subplots(figsize=(7.0, 4.2))
    betas = beta_schedule("scaled_linear", 1000)
    for name, b, color in (("scaled linear (SD)", betas, PALETTE[0]),
                           ("rescaled to zero terminal SNR", rescale_zero_terminal_snr(betas), PALETTE[1])):
        ab = alphas_cumprod_from_betas(b).numpy()
        with np.errstate(divide="ignore"):
            lam_d = 0.5 * (np.log(ab) - np.log1p(-ab))
        ax3.plot(np.arange(1, 1001) / 1000, lam_d, color=color, label=name)
    tt = np.linspace(1e-3, 1 - 1e-3, 999)
    for a, color in ((1.0, PALETTE[2]), (3.0, PALETTE[3])):
        ts = a * tt / (1 + (a - 1) * tt)  # the time the shifted sampler/trainer uses at t
        ax3.plot(tt, np.log((1 - ts) / ts), color=color, label=f"rectified flow, shift {a:g}")
    ax3.set_ylim(-12, 8)
    ax3.set_xlabel("t")
    ax3.set_ylabel("λ = log(α/σ)")
    ax3.legend(fontsize=9, loc="upper right")

    n = 50_000 if quick else 200_000
    fig4, (a4, b4) = plt.subplots(1, 2, figsize=(7.4, 3.6))
    g = torch.Generator().manual_seed(SEED)
    for k, (name, kw) in enumerate((("uniform", {"t_sampler": "uniform"}), ("logit-normal", {}),
                                    ("logit-normal, shift 3", {"shift": 3.0}))):
        ts = sample_t_flow(n, g, **kw).numpy()
        a4.hist(ts, bins=60, range=(0, 1), density=True, histtype="step", color=PALETTE[k], label=name)
        b4.hist(np.log((1 - ts) / ts), bins=60, range=(-6, 6), density=True, histtype="step", color=PALETTE[k])
        if name != "uniform":
            mu = -np.log(kw.get("shift", 1.0))
            x = np.linspace(-6, 6, 300)
            b4.plot(x, np.exp(-0.5 * (x - mu) ** 2) / np.sqrt(2 * np.pi), color=PALETTE[k], lw=0.8, ls="--")
    a4.set_xlabel("t")
    a4.set_ylabel("density")
    b4.set_xlabel("λ = log((1 − t)/t)")
    a4.legend(fontsize=9, loc="upper left")
    return {"training-implied-weights": fig1, "training-edm-preconditioning": fig2,
            "schedules-modern-lambda": fig3, "schedules-modern-logit-normal": fig4}
