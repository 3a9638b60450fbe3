"""A sweep of the public API with bad or edge-case input: does every call fail clearly?

    python -m tools.bad_input_sweep --json /tmp/after.json             # run the sweep
    python -m tools.bad_input_sweep --table before.json after.json     # compare two runs
    python -m tools.bad_input_sweep --quick                            # a small subset

Each case is one call and what it should do: raise a `ValueError`/`TypeError` (or, for
bounded work, a `RuntimeError`) whose message names the parameter, or succeed with a
finite result of the right shape (valid edge cases, so that the sweep also catches a
validation that is too strict). A call ends in one of

- `clear`: the expected error, naming what it should;
- `ok`: a valid call that succeeded;
- `silent`: a bad call that returned (a NaN, a broadcast, a guess) or a valid one whose
  result is wrong;
- `crash`: another exception, or one that does not name the parameter;
- `hang`: still running after the time limit (SIGALRM, per call).

Only the public import paths of difflearn 0.2 are used, so the same script runs against
an older checkout (`PYTHONPATH=<checkout>/src`) for a before/after table.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import platform
import shutil
import signal
import tempfile
import time
import warnings
from pathlib import Path

import torch

LIMIT_S = 20.0  # generous: the machine running the sweep may be shared
ITEMS = {
    1: "checkpoints",
    2: "bounded adaptive solving",
    3: "times outside the schedule",
    4: "degenerate schedules",
    5: "shapes",
    6: "guidance",
    7: "wrong blame",
    8: "checkpoint loading errors",
    9: "checkpoint inference",
    10: "training input",
    11: "metrics",
    12: "work without feedback",
    13: "smaller",
}


class Case:
    """One call: `fn()`; `expect` is the text the error must contain, or `None` for a
    call that must succeed (then `check(result)` must hold)."""

    def __init__(self, item, name, fn, expect=None, check=None, errors=(ValueError, TypeError)):
        self.item, self.name, self.fn, self.expect, self.check = item, name, fn, expect, check
        self.errors = errors


class Hang(Exception):
    pass


def _alarm(signum, frame):
    raise Hang()


def finite(shape=None):
    def check(out):
        out = out[0] if isinstance(out, tuple) else out
        return (isinstance(out, torch.Tensor) and bool(torch.isfinite(out).all())
                and (shape is None or tuple(out.shape) == tuple(shape)))
    return check


def run_case(case: Case) -> tuple[str, str]:
    signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, LIMIT_S)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = case.fn()
        signal.setitimer(signal.ITIMER_REAL, 0)
    except Hang:
        return "hang", f"> {LIMIT_S:g} s"
    except BaseException as err:  # noqa: BLE001 - a sweep records everything
        signal.setitimer(signal.ITIMER_REAL, 0)
        msg = f"{type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}"[:160]
        if case.expect is not None and isinstance(err, case.errors) and case.expect in str(err):
            return "clear", msg
        return "crash", msg
    if case.expect is None:
        ok = case.check is None or case.check(result)
        return ("ok", "") if ok else ("silent", "returned a wrong or non-finite result")
    if case.expect.startswith("warning:"):
        hit = [str(w.message) for w in caught if case.expect[8:] in str(w.message)]
        return ("clear", "warned") if hit else ("silent", "no warning")
    return "silent", "returned without an error"


# ---- the cases ---------------------------------------------------------------------------------
def sampler_cases(quick: bool):
    from difflearn import METHODS, DPM_Solver, NoiseScheduleVP, model_wrapper, sample

    betas = torch.linspace(1e-4, 0.02, 1000, dtype=torch.float64)
    ns = NoiseScheduleVP("discrete", betas=betas)
    cos = NoiseScheduleVP("cosine")
    B, C = 4, 2
    x = torch.randn(B, C, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    good = lambda x, t: 0.1 * x  # noqa: E731
    methods = list(METHODS)[:4] if quick else list(METHODS)
    stochastic = {"ddpm", "euler_maruyama", "pc", "sde_dpmpp_2m", "sde_dpmpp_3m", "dpm2_ancestral",
                  "dpmpp_2s_ancestral", "dpmpp_2s_sde"}
    for m in methods:
        run = lambda m=m, **kw: sample(kw.pop("fn", good), kw.pop("x", x), kw.pop("ns", ns), m,  # noqa: E731
                                       **{"steps": 5, **kw})
        yield Case(0, f"{m}: valid call", lambda run=run: run(), check=finite((B, C)))
        yield Case(3, f"{m}: t_end=0 on a discrete schedule", lambda run=run: run(t_end=0.0), "t_end")
        yield Case(3, f"{m}: t_start=2.0", lambda run=run: run(t_start=2.0), "t_start")
        yield Case(3, f"{m}: t_start=1.0 on the cosine schedule (T<1)",
                   lambda run=run: run(ns=cos, t_start=1.0), "t_start")
        yield Case(3, f"{m}: timesteps ending at 0", lambda run=run: run(
            steps=None, timesteps=torch.linspace(1.0, 0.0, 6, dtype=torch.float64)), "timesteps")
        yield Case(5, f"{m}: model returns a scalar",
                   lambda run=run: run(fn=lambda x, t: x.new_tensor(0.1)), "model_fn")
        yield Case(5, f"{m}: model returns (1, C)",
                   lambda run=run: run(fn=lambda x, t: 0.1 * x[:1]), "model_fn")
        yield Case(5, f"{m}: model returns (B, 2C) (learn_sigma)",
                   lambda run=run: run(fn=lambda x, t: torch.cat([x, x], 1)), "eps_only")
        yield Case(5, f"{m}: model returns None", lambda run=run: run(fn=lambda x, t: None), "model_fn")
        yield Case(5, f"{m}: model returns a numpy array",
                   lambda run=run: run(fn=lambda x, t: x.numpy()), "model_fn")
        yield Case(5, f"{m}: 0-dim x_T", lambda run=run: run(x=torch.tensor(0.5, dtype=torch.float64)), "x")
        yield Case(5, f"{m}: NaN in x_T, model ignores x", lambda run=run: run(
            x=x.clone().fill_(float("nan")), fn=lambda x, t: torch.zeros_like(x)), "x")
        if m in stochastic:
            yield Case(5, f"{m}: noise_sampler returns (1, C)", lambda run=run: run(
                noise_sampler=lambda: torch.randn(1, C, dtype=torch.float64)), "noise_sampler")
    solver = lambda: DPM_Solver(good, ns)  # noqa: E731
    yield Case(3, "DPM_Solver.sample(t_end=1e-4) on a discrete schedule",
               lambda: solver().sample(x, steps=5, t_end=1e-4), "t_end")
    yield Case(3, "DPM_Solver.sample(t_start=2.0)", lambda: solver().sample(x, steps=5, t_start=2.0), "t_start")
    yield Case(2, "DPM_Solver.inverse(method='adaptive')",
               lambda: solver().inverse(x, method="adaptive"), check=finite((B, C)))
    for name, kw in (("atol=0", dict(atol=0.0)), ("atol=-1", dict(atol=-1.0)), ("atol=nan", dict(atol=math.nan)),
                     ("rtol=nan", dict(rtol=math.nan)), ("rtol=-0.1", dict(rtol=-0.1))):
        yield Case(2, f"adaptive {name}", lambda kw=kw: solver().sample(x, method="adaptive", **kw),
                   next(iter(kw)))
    hard = lambda x, t: torch.sin(40 * x) + 0.1 * x  # noqa: E731
    yield Case(2, "adaptive atol=rtol=1e-12 in float32 (bounded NFE)",
               lambda: DPM_Solver(hard, ns).sample(x.float(), method="adaptive", atol=1e-12, rtol=1e-12),
               "max_nfe", errors=(RuntimeError, ValueError))
    from difflearn.samplers import ddim, predictor_corrector, unipc
    from difflearn.schedules import time_steps

    grid = time_steps(ns, "time_uniform", 1.0, 1e-3, 5, dtype=torch.float64)
    yield Case(7, "ddim eta=1.5", lambda: ddim(good, x, ns, grid, eta=1.5), "eta")
    yield Case(7, "pc snr=inf", lambda: predictor_corrector(good, x, ns, grid, snr=math.inf), "snr")
    cond = torch.zeros(B, dtype=torch.long)
    cfg_model = lambda x, t, c: 0.1 * x  # noqa: E731
    for s in (math.nan, math.inf):
        yield Case(7, f"guidance_scale={s}", lambda s=s: ddim(model_wrapper(
            cfg_model, ns, guidance_type="classifier-free", condition=cond, unconditional_condition=cond + 1,
            guidance_scale=s), x, ns, grid), "guidance_scale")
    yield Case(6, "classifier-free guidance without unconditional_condition", lambda: ddim(model_wrapper(
        cfg_model, ns, guidance_type="classifier-free", condition=cond, guidance_scale=7.5), x, ns, grid),
        "unconditional_condition")
    yield Case(6, "tensor guidance_scale of shape (B,)", lambda: ddim(model_wrapper(
        cfg_model, ns, guidance_type="classifier-free", condition=cond, unconditional_condition=cond,
        guidance_scale=torch.full((B,), 3.0)), x, ns, grid), "guidance_scale")
    yield Case(13, "unipc order=2.0", lambda: unipc(good, x, ns, grid, order=2.0), "order")
    yield Case(12, "DPM_Solver.sample(progress=True)",
               lambda: DPM_Solver(good, ns).sample(x, steps=3, progress=True), check=finite((B, C)))
    net = torch.nn.Linear(C, C).double()
    yield Case(12, "ddim on a model whose parameters require grad keeps no graph",
               lambda: ddim(lambda x, t: net(x), x, ns, grid), check=lambda out: not out.requires_grad)


def schedule_cases():
    from difflearn import NoiseScheduleVP, beta_schedule, discrete_timesteps, time_steps

    betas = torch.linspace(1e-4, 0.02, 1000, dtype=torch.float64)
    ns = NoiseScheduleVP("discrete", betas=betas)
    lin = NoiseScheduleVP("linear")
    ab = torch.cumprod(1 - betas, 0)
    yield Case(4, "alphas_cumprod starting at 1.0", lambda: NoiseScheduleVP(
        "discrete", alphas_cumprod=torch.cat([torch.ones(1, dtype=torch.float64), ab[:-1]])), "alphas_cumprod")
    yield Case(4, "continuous_beta_0=nan", lambda: NoiseScheduleVP("linear", continuous_beta_0=math.nan),
               "continuous_beta_0")
    yield Case(4, "continuous_beta_1=inf", lambda: NoiseScheduleVP("linear", continuous_beta_1=math.inf),
               "continuous_beta_1")
    yield Case(4, "dtype=torch.int64", lambda: NoiseScheduleVP("discrete", betas=betas, dtype=torch.int64),
               "dtype")
    yield Case(4, "betas all 0.999", lambda: NoiseScheduleVP("discrete", betas=torch.full((50,), 0.999)), "betas")
    yield Case(4, "betas with a NaN", lambda: NoiseScheduleVP(
        "discrete", betas=torch.cat([betas[:-1], torch.tensor([math.nan])])), "betas")
    yield Case(4, "float16 time query gives a finite lambda",
               lambda: ns.marginal_lambda(torch.tensor([0.5, 0.01], dtype=torch.float16)), check=finite())
    yield Case(4, "beta_schedule('linear', beta_start=0.0)",
               lambda: beta_schedule("linear", 100, beta_start=0.0), "beta_start")
    yield Case(4, "beta_schedule('linear', beta_end=2.0)", lambda: beta_schedule("linear", 100, beta_end=2.0),
               "beta_end")
    yield Case(4, "beta_schedule('linear', beta_start=0.01) is kept",
               lambda: beta_schedule("linear", 100, beta_start=0.01), check=lambda b: abs(float(b[0]) - 0.01) < 1e-12)
    yield Case(3, "marginal_alpha at t=0 (discrete)", lambda: ns.marginal_alpha(torch.tensor([0.0])), "t")
    yield Case(3, "marginal_std at t=1.5", lambda: ns.marginal_std(torch.tensor([1.5])), "t")
    yield Case(3, "marginal_lambda at t=nan", lambda: lin.marginal_lambda(torch.tensor([math.nan])), "t")
    yield Case(3, "marginals at t=2.0", lambda: ns.marginals([2.0]), "t")
    yield Case(3, "time_steps(t_T=2.0)", lambda: time_steps(ns, "logSNR", 2.0, 1e-3, 10), "t_T")
    yield Case(13, "marginal_alpha(0.5) with a Python float", lambda: ns.marginal_alpha(0.5), check=finite())
    yield Case(13, "check_t(nan)", lambda: ns.check_t(torch.tensor([math.nan])), "t")
    yield Case(13, "discrete_timesteps(10, 10, steps_offset=5)",
               lambda: discrete_timesteps(10, 10, steps_offset=5), "steps_offset")
    yield Case(13, "discrete_timesteps(1000, 10, steps_offset=1) is valid",
               lambda: discrete_timesteps(1000, 10, steps_offset=1), check=lambda ts: int(ts.max()) <= 999)


def _fit_setup(tmp: Path, steps: int = 2, checkpoint_every: int = 1, **config):
    from difflearn import TrainConfig
    from difflearn.training import fit

    torch.manual_seed(0)
    model = torch.nn.Linear(2, 2)
    batch = lambda g, n: {"x": torch.randn(n, 2, generator=g)}  # noqa: E731
    loss = lambda m, b: (m(b["x"]) - b["x"]).pow(2).mean()  # noqa: E731
    cfg = TrainConfig(**{**dict(steps=steps, batch_size=4, warmup=1, progress=False, log_every=1,
                                checkpoint_every=checkpoint_every), **config})
    return fit(model, loss, batch, cfg, tmp, device="cpu")


def _files(root: Path, name: str) -> list[Path]:
    return sorted(p for p in root.rglob(name) if ".tmp" not in str(p))


def training_cases(tmp: Path):
    from difflearn import NoiseScheduleVP, TrainConfig, train_diffusion
    from difflearn.training import make_batch_fn

    def fresh(name):
        d = tmp / name
        shutil.rmtree(d, ignore_errors=True)
        return d

    def corrupt(name, edit):
        def fn():
            d = fresh(name)
            _fit_setup(d, 2)
            edit(d)
            return _fit_setup(d, 4)
        return fn

    def truncate(pattern):
        def edit(d):
            for p in _files(d, pattern):
                p.write_bytes(p.read_bytes()[: max(1, p.stat().st_size // 2)])
        return edit

    def mix(d):  # weights from a later save, the rest from the earlier one
        later = fresh("later")
        _fit_setup(later, 3)
        for p in _files(d, "model.safetensors"):
            shutil.copy(_files(later, "model.safetensors")[0], p)

    yield Case(1, "resume from a truncated state.json", corrupt("trunc-json", truncate("state.json")), "state.json")
    yield Case(1, "resume from a truncated trainer.pt", corrupt("trunc-pt", truncate("trainer.pt")), "trainer.pt")
    yield Case(1, "resume from weights of step k+1 with the state of step k", corrupt("mixed", mix),
               "checkpoint")
    yield Case(1, "resume from an intact checkpoint", lambda: _fit_setup(fresh("intact"), 2) and
               _fit_setup(tmp / "intact", 4), check=lambda r: r.step == 4 and len(r.losses) == 4)
    for name, kw in (("batch_size", dict(batch_size=0)), ("grad_clip", dict(grad_clip=-1.0)),
                     ("log_every", dict(log_every=0)), ("lr", dict(lr=math.nan)),
                     ("ema_decay", dict(ema_decay=2.0)), ("steps", dict(steps=2.5))):
        yield Case(10, f"TrainConfig({name}={kw[name]!r}) then fit",
                   lambda name=name, kw=kw: _fit_setup(fresh(f"cfg-{name}"), **{"steps": 2, **kw}), name)
    ns = NoiseScheduleVP("linear")
    images = torch.zeros(16, 1, 4, 4)
    images[0, 0, 0, 0] = math.nan

    class Tiny(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.w = torch.nn.Parameter(torch.ones(1))

        def forward(self, x, t):
            return self.w * x

    yield Case(10, "train_diffusion on images with a NaN", lambda: train_diffusion(
        Tiny(), images, ns, config=TrainConfig(steps=2, batch_size=4, progress=False, log_every=1), device="cpu"),
        "images")
    yield Case(10, "make_batch_fn on images with a NaN", lambda: make_batch_fn(images, ns), "images")


def model_cases(tmp: Path):
    from difflearn import create_model, load_checkpoint

    kw = dict(model="UNetModel", in_channels=1, model_channels=32, out_channels=1, num_res_blocks=1,
              attention_resolutions=(2,), channel_mult=(1, 2), num_head_channels=8, image_size=8)
    torch.manual_seed(0)
    net = create_model(dict(kw))
    with torch.no_grad():  # ADM zero-initialises its output layers
        for p in net.parameters():
            p.normal_(0.0, 0.2)
    sd = net.state_dict()
    save = lambda name, obj: (torch.save(obj, tmp / name), tmp / name)[1]  # noqa: E731
    good = save("good.pt", sd)
    yield Case(9, "inferred heads (no matching preset) are announced", lambda: load_checkpoint(good),
               "warning:num_head_channels")
    yield Case(9, "strict=True refuses to guess the heads", lambda: load_checkpoint(good, strict=True), "strict")
    yield Case(9, "heads passed explicitly: exact outputs", lambda: load_checkpoint(good, num_head_channels=8),
               check=lambda m: torch.equal(m(torch.ones(1, 1, 8, 8), torch.ones(1)),
                                           net.eval()(torch.ones(1, 1, 8, 8), torch.ones(1))))
    partial = save("partial.pt", {k: v for k, v in sd.items() if k != "out.2.weight"})
    yield Case(8, "a key missing, no preset", lambda: load_checkpoint(partial), "out.2.weight")
    wrapped = save("wrapped.pt", {"model": sd, "step": 3})
    yield Case(8, "a {'model': state_dict} wrapper", lambda: load_checkpoint(wrapped, num_head_channels=8),
               check=lambda m: m is not None)
    empty = tmp / "empty.pt"
    empty.write_bytes(b"")
    yield Case(8, "an empty .pt file", lambda: load_checkpoint(empty), "empty.pt")
    text = tmp / "text.pt"
    text.write_text("not a checkpoint\n")
    yield Case(8, "a text file named .pt", lambda: load_checkpoint(text), "text.pt")
    trunc = tmp / "trunc.pt"
    trunc.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    yield Case(8, "a truncated .pt file", lambda: load_checkpoint(trunc), "trunc.pt")
    from safetensors.torch import save_file

    st = tmp / "good.safetensors"
    save_file({k: v.contiguous() for k, v in sd.items()}, str(st))
    st_trunc = tmp / "trunc.safetensors"
    st_trunc.write_bytes(st.read_bytes()[: st.stat().st_size // 2])
    yield Case(8, "a truncated .safetensors file", lambda: load_checkpoint(st_trunc), "trunc.safetensors")
    pickled = save("pickled.pt", {"net": torch.nn.Linear(2, 2)})

    def refuse():
        try:
            load_checkpoint(pickled)
        except ValueError as err:
            if "weights_only=False" in str(err):
                raise RuntimeError("suggests weights_only=False: " + str(err)[:80]) from err
            raise
    yield Case(8, "a pickle with a module: refused, without suggesting weights_only=False", refuse, "pickled.pt")
    yield Case(13, "create_model({'model': 'Foo'})", lambda: create_model({"model": "Foo"}), "model")
    yield Case(13, "UNet on an odd image size", lambda: net(torch.zeros(1, 1, 7, 7), torch.ones(1)), "x")
    from difflearn.interop import schedule_from_diffusers

    yield Case(13, "schedule_from_diffusers('a/path')", lambda: schedule_from_diffusers("a/path"),
               "scheduler_config")


def metric_cases():
    from difflearn.data import load_digits
    from difflearn.metrics import classifier_accuracy, digits_fid

    x, y = load_digits(8)
    x, y = x[:256], y[:256]
    yield Case(11, "digits_fid on images in [0, 1]", lambda: digits_fid((x + 1) / 2, x), "[0, 1]")
    yield Case(11, "digits_fid on uint8 images", lambda: digits_fid(((x + 1) * 127.5).to(torch.uint8), x), "uint8")
    yield Case(11, "classifier_accuracy with labels of shape (N, 1)",
               lambda: classifier_accuracy(x, y[:, None]), "labels")
    yield Case(11, "digits_fid on valid images", lambda: digits_fid(x[:128], x[128:]),
               check=lambda v: math.isfinite(v) and v >= 0)


def all_cases(tmp: Path, quick: bool):
    yield from sampler_cases(quick)
    yield from schedule_cases()
    if not quick:
        yield from training_cases(tmp)
        yield from model_cases(tmp)
        yield from metric_cases()


def sweep(quick: bool = False) -> dict:
    import difflearn

    torch.set_num_threads(1)
    rows = []
    start, cpu = time.perf_counter(), time.process_time()
    with tempfile.TemporaryDirectory() as d:
        # warm up the lazy imports (the optimizer pulls in torch._dynamo) outside the
        # time limit: an alarm inside an import leaves a half-initialised module behind
        if not quick:
            _fit_setup(Path(d) / "warm-up", 1)
        try:
            for case in all_cases(Path(d), quick):
                outcome, detail = run_case(case)
                rows.append(dict(item=case.item, name=case.name, outcome=outcome, detail=detail))
        except Exception as err:  # a case builder that breaks on old code ends the generator
            rows.append(dict(item=0, name=f"(setup failed: {type(err).__name__}: {err})"[:120],
                             outcome="crash", detail=""))
    return dict(difflearn=str(Path(difflearn.__file__).parent), torch=torch.__version__,
                machine=f"{platform.machine()}, {os.cpu_count()} CPUs (shared), {platform.python_version()}",
                wall_s=round(time.perf_counter() - start, 1), cpu_s=round(time.process_time() - cpu, 1),
                rows=rows)


OUTCOMES = ("clear", "ok", "silent", "crash", "hang")


def counts(rows) -> dict:
    return {o: sum(r["outcome"] == o for r in rows) for o in OUTCOMES}


def table(before: dict, after: dict) -> str:
    """Markdown: totals, per item, and every case whose outcome changed or is still bad."""
    lines = ["| run | calls | clear error | ok | silent | crash | hang | wall s | CPU s |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for label, run in (("before", before), ("after", after)):
        c = counts(run["rows"])
        lines.append(f"| {label} | {len(run['rows'])} | " + " | ".join(str(c[o]) for o in OUTCOMES)
                     + f" | {run['wall_s']} | {run['cpu_s']} |")
    lines += ["", "| item | calls | bad before (silent/crash/hang) | bad after |", "| --- | ---: | ---: | ---: |"]
    for item in sorted({r["item"] for r in after["rows"]}):
        b = [r for r in before["rows"] if r["item"] == item]
        a = [r for r in after["rows"] if r["item"] == item]
        bad = lambda rs: sum(r["outcome"] in ("silent", "crash", "hang") for r in rs)  # noqa: E731
        label = ITEMS.get(item, "valid calls (must still succeed)")
        lines.append(f"| {item} {label} | {len(a)} | {bad(b)} | {bad(a)} |")
    old = {r["name"]: r for r in before["rows"]}
    lines += ["", "| case | before | after |", "| --- | --- | --- |"]
    for r in after["rows"]:
        o = old.get(r["name"], {"outcome": "-", "detail": ""})
        if o["outcome"] != r["outcome"] or r["outcome"] in ("silent", "crash", "hang"):
            cell = lambda x: f"{x['outcome']}: {x['detail']}".replace("|", "/")[:110]  # noqa: E731
            lines.append(f"| {r['item']}: {r['name']} | {cell(o)} | {cell(r)} |")
    return "\n".join(lines) + "\n"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", help="write the run here")
    ap.add_argument("--quick", action="store_true", help="a small subset (for the test)")
    ap.add_argument("--table", nargs=2, metavar=("BEFORE", "AFTER"), help="compare two runs (Markdown)")
    ap.add_argument("--out", help="write the table here")
    args = ap.parse_args(argv)
    if args.table:
        before, after = (json.loads(Path(p).read_text()) for p in args.table)
        text = table(before, after)
        if args.out:
            Path(args.out).write_text(text)
        print(text)
        return 0
    with contextlib.redirect_stderr(open(os.devnull, "w")):  # tqdm bars of the progress cases
        run = sweep(args.quick)
    if args.json:
        Path(args.json).write_text(json.dumps(run, indent=1))
    c = counts(run["rows"])
    print(f"{len(run['rows'])} calls: " + ", ".join(f"{v} {k}" for k, v in c.items())
          + f" ({run['wall_s']} s wall, {run['cpu_s']} s CPU; difflearn from {run['difflearn']})")
    for r in run["rows"]:
        if r["outcome"] in ("silent", "crash", "hang"):
            print(f"  [{r['outcome']}] {r['item']}: {r['name']} -- {r['detail']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
