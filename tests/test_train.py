"""difflearn.training (objectives, loop, checkpoints): loss, EMA, label dropout, determinism, resume, DDP."""

from __future__ import annotations

import json
import os

import pytest
import torch
import torch.multiprocessing as mp

from difflearn import NoiseScheduleVP, UNetModel, beta_schedule
from difflearn.data import load_digits
from difflearn.training import TrainConfig, diffusion_loss, drop_labels, ema_update, make_batch_fn, noised, train_diffusion
from difflearn.training.checkpoints import find_checkpoint

BETAS = beta_schedule("linear", 1000)


def tiny_unet(num_classes=None, seed=0):
    torch.manual_seed(seed)
    return UNetModel(8, 1, 32, 1, 1, (), channel_mult=(1,), num_classes=num_classes)


def digits_subset(n=128):
    x, y = load_digits(8)
    return x[:n], y[:n]


def cfg(**kw):
    base = dict(steps=4, batch_size=8, lr=2e-3, warmup=1, ema_decay=0.9, seed=0, checkpoint_every=0,
                progress=False, log_every=2)
    return TrainConfig(**{**base, **kw})


def test_noised_and_time_label_match_ddpm_closed_form():
    """x_t and the model's time label against DDPM's q(x_n | x_0) from the betas (Ho et al. Eq. 4)."""
    ns = NoiseScheduleVP("discrete", betas=BETAS)
    alpha_bar = torch.cumprod(1 - BETAS, 0)                   # independent of NoiseScheduleVP
    n = torch.tensor([0, 17, 500, 999])
    x0, eps = torch.randn(4, 1, 8, 8, dtype=torch.float64), torch.randn(4, 1, 8, 8, dtype=torch.float64)
    t = (n + 1).double() / 1000
    ref = alpha_bar[n].sqrt().view(-1, 1, 1, 1) * x0 + (1 - alpha_bar[n]).sqrt().view(-1, 1, 1, 1) * eps
    torch.testing.assert_close(noised(ns, x0, t, eps), ref, rtol=1e-5, atol=1e-6)  # table stored in float32
    seen = {}

    def model(x_t, t_in):
        seen["t"] = t_in
        return torch.zeros_like(x_t)
    loss = diffusion_loss(model, ns, {"x0": x0, "t": t, "eps": eps})
    torch.testing.assert_close(seen["t"], n.double())          # the model sees the DDPM step index n
    torch.testing.assert_close(loss, (eps**2).mean())


def test_training_decreases_loss_on_a_fixed_batch():
    x, _ = digits_subset()
    ns = NoiseScheduleVP("discrete", betas=BETAS)
    probe = make_batch_fn(x, ns)(torch.Generator().manual_seed(123), 64)
    model = tiny_unet()
    with torch.no_grad():
        before = float(diffusion_loss(model, ns, probe))
    result = train_diffusion(model, x, ns, config=cfg(steps=40, batch_size=32, ema_decay=0.0), device="cpu")
    with torch.no_grad():
        after = float(diffusion_loss(result.model.eval(), ns, probe))
    assert before > 0.9           # a zero-initialised output layer predicts eps = 0: loss = E[eps^2] = 1
    assert after < 0.75 * before, (before, after)
    assert len(result.losses) == 40 and result.step == 40


def test_same_seed_gives_identical_weights():
    x, _ = digits_subset()
    ns = NoiseScheduleVP("discrete", betas=BETAS)
    a = train_diffusion(tiny_unet(), x, ns, config=cfg(), device="cpu")
    b = train_diffusion(tiny_unet(), x, ns, config=cfg(), device="cpu")
    c = train_diffusion(tiny_unet(), x, ns, config=cfg(seed=1), device="cpu")
    for (k, p), q in zip(a.ema.state_dict().items(), b.ema.state_dict().values()):
        assert torch.equal(p, q), k
    assert a.losses == b.losses and a.losses != c.losses
    assert not all(torch.equal(p, q) for p, q in zip(a.model.parameters(), c.model.parameters()))


def test_resume_equals_uninterrupted_run(tmp_path):
    x, y = digits_subset()
    ns = NoiseScheduleVP("discrete", betas=BETAS)
    kw = dict(labels=y, label_dropout=0.3, null_class=10)
    full = train_diffusion(tiny_unet(11), x, ns, config=cfg(steps=6), device="cpu", **kw)
    train_diffusion(tiny_unet(11), x, ns, config=cfg(steps=3), checkpoint_dir=tmp_path, device="cpu", **kw)
    ckpt = find_checkpoint(tmp_path)  # one complete, atomically written directory
    state = json.loads((ckpt / "state.json").read_text())
    assert state["step"] == 3 and len(state["losses"]) == 3
    # the trainer state must load without unpickling code
    torch.load(ckpt / "trainer.pt", weights_only=True)
    resumed = train_diffusion(tiny_unet(11, seed=99), x, ns, config=cfg(steps=6), checkpoint_dir=tmp_path,
                              device="cpu", **kw)
    assert resumed.losses == full.losses
    for name in ("model", "ema"):
        for (k, p), q in zip(getattr(full, name).state_dict().items(), getattr(resumed, name).state_dict().values()):
            assert torch.equal(p, q), (name, k)
    with pytest.raises(ValueError, match="batch_size"):
        train_diffusion(tiny_unet(11), x, ns, config=cfg(steps=7, batch_size=4), checkpoint_dir=tmp_path, **kw)


def test_ema_update_matches_hand_computation():
    model, ema = torch.nn.Linear(2, 1), torch.nn.Linear(2, 1)
    with torch.no_grad():
        ema.weight.copy_(torch.tensor([[1.0, -2.0]]))
        ema.bias.fill_(0.5)
        model.weight.copy_(torch.tensor([[3.0, 4.0]]))
        model.bias.fill_(-1.5)
    ema_update(ema, model, 0.75)
    # 0.75 * old + 0.25 * new, by hand
    torch.testing.assert_close(ema.weight, torch.tensor([[1.5, -0.5]]))
    torch.testing.assert_close(ema.bias, torch.tensor([0.0]))
    with torch.no_grad():
        model.weight.fill_(0.0)
    ema_update(ema, model, 0.75)
    torch.testing.assert_close(ema.weight, torch.tensor([[1.125, -0.375]]))
    with pytest.raises(ValueError, match="decay"):
        ema_update(ema, model, 1.5)


def test_ema_inside_fit_follows_the_recursion():
    """decay 0 makes the EMA the model; decay 1 keeps the initial weights."""
    x, _ = digits_subset()
    ns = NoiseScheduleVP("discrete", betas=BETAS)
    init = {k: v.clone() for k, v in tiny_unet().state_dict().items()}
    r0 = train_diffusion(tiny_unet(), x, ns, config=cfg(ema_decay=0.0), device="cpu")
    r1 = train_diffusion(tiny_unet(), x, ns, config=cfg(ema_decay=1.0), device="cpu")
    for k, v in r0.model.state_dict().items():
        assert torch.equal(r0.ema.state_dict()[k], v)
        assert torch.equal(r1.ema.state_dict()[k], init[k])


def test_label_dropout_rate():
    g = torch.Generator().manual_seed(0)
    y = torch.randint(0, 10, (200_000,), generator=g)
    p = 0.2
    out = drop_labels(y, p, 10, g)
    rate = float((out == 10).double().mean())
    sd = (p * (1 - p) / len(y)) ** 0.5                            # binomial standard deviation
    assert abs(rate - p) < 5 * sd, rate
    kept = out != 10
    assert torch.equal(out[kept], y[kept])
    with pytest.raises(ValueError, match="label_dropout"):
        drop_labels(y, 1.5, 10, g)
    with pytest.raises(ValueError, match="null_class"):
        make_batch_fn(torch.zeros(4, 1, 8, 8), None, torch.zeros(4, dtype=torch.long), label_dropout=0.1)


def _ddp_worker(rank, world, store, out):
    os.environ.update(RANK=str(rank), WORLD_SIZE=str(world), LOCAL_RANK=str(rank))
    torch.set_num_threads(1)
    # a file rendezvous instead of torchrun's TCP one: no port to collide with other jobs;
    # fit() finds the initialised group and takes the DDP path
    torch.distributed.init_process_group("gloo", init_method=f"file://{store}", rank=rank, world_size=world)
    x, _ = digits_subset()
    ns = NoiseScheduleVP("discrete", betas=BETAS)
    result = train_diffusion(tiny_unet(), x, ns, config=cfg(steps=3, batch_size=4), device="cpu")
    assert result.world_size == world
    if rank == 0:
        torch.save({"sd": result.model.state_dict(), "losses": torch.tensor(result.losses)}, out)
    torch.distributed.destroy_process_group()


def test_ddp_two_processes_equal_one_process_with_the_global_batch(tmp_path):
    """torchrun's code path (DDP, gloo on CPU, world size 2, batch 4 each) = one process with batch 8."""
    out = tmp_path / "ddp.pt"
    mp.spawn(_ddp_worker, args=(2, str(tmp_path / "store"), str(out)), nprocs=2, join=True)
    ddp = torch.load(out, weights_only=True)
    x, _ = digits_subset()
    ns = NoiseScheduleVP("discrete", betas=BETAS)
    single = train_diffusion(tiny_unet(), x, ns, config=cfg(steps=3, batch_size=8), device="cpu")
    torch.testing.assert_close(ddp["losses"], torch.tensor(single.losses), rtol=1e-5, atol=1e-6)
    # Adam divides by sqrt(v): round-off in near-zero gradients moves weights by ~1e-5; a DDP that did not
    # average gradients would differ by ~lr = 2e-3 (and its losses after step 1 would differ too)
    for k, v in single.model.state_dict().items():
        torch.testing.assert_close(ddp["sd"][k], v, rtol=1e-3, atol=2e-4, msg=k)
