r"""A small MLP noise predictor $\hat\varepsilon_\theta(x_t, t)$ for 2-D toy data.

The 2-D data sets of `difflearn.toy` are small enough that a residual MLP learns
their noise prediction in a few seconds on a CPU, and 2-D samples can be drawn as
points and their sampling paths as lines. The network follows the recipe of the
image UNet at toy scale: the time input $t$ goes through the sinusoidal
embedding of `timestep_embedding` (Ho et al., 2020, sec. 4; Vaswani et al.,
2017) and a two-layer MLP, and that embedding is added to the hidden state
before every residual block.

The shipped weights `toy2d-mlp` (`difflearn.pretrained.load("toy2d-mlp")`) come from
`python -m difflearn.toy_mlp`: `difflearn.train` with the $\varepsilon$-prediction loss
of DDPM (Ho et al., 2020, eq. 14) on the discrete linear schedule ($N = 1000$), time
inputs $n \in \{0, \dots, 999\}$ (the convention of guided-diffusion, so
`model_wrapper` calls it like any DDPM network). Its model card says how long that took.
"""

from __future__ import annotations

import argparse
import json
import platform
from pathlib import Path

import torch
from torch import nn

from .models.nn import timestep_embedding

DATASETS = ("checkerboard", "moons", "swiss_roll")


# --8<-- [start:toy_mlp]
class ToyMLP(nn.Module):
    r"""$\hat\varepsilon_\theta(x_t, t)$ for `dim`-D points: time embedding + residual MLP.

    Args:
        dim: data dimension $D$.
        hidden: width of the hidden layers.
        depth: number of residual blocks.
        emb_dim: width of the sinusoidal time embedding.
    """

    def __init__(self, dim: int = 2, hidden: int = 128, depth: int = 3, emb_dim: int = 64):
        super().__init__()
        for name, v in [("dim", dim), ("hidden", hidden), ("depth", depth), ("emb_dim", emb_dim)]:
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"{name} must be an int >= 1, got {v!r}")
        self.config = dict(dim=dim, hidden=hidden, depth=depth, emb_dim=emb_dim)
        self.emb_dim = emb_dim
        self.time_embed = nn.Sequential(nn.Linear(emb_dim, hidden), nn.SiLU(), nn.Linear(hidden, hidden))
        self.inp = nn.Linear(dim, hidden)
        self.blocks = nn.ModuleList(
            nn.Sequential(nn.LayerNorm(hidden), nn.SiLU(), nn.Linear(hidden, hidden), nn.SiLU(),
                          nn.Linear(hidden, hidden))
            for _ in range(depth)
        )
        self.out = nn.Sequential(nn.LayerNorm(hidden), nn.SiLU(), nn.Linear(hidden, dim))

    def forward(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        t = torch.as_tensor(t, device=x.device).expand(x.shape[0])
        emb = self.time_embed(timestep_embedding(t, self.emb_dim).to(x.dtype))  # (B, H)
        h = self.inp(x)                                                          # (B, H)
        for block in self.blocks:
            h = h + block(h + emb)
        return self.out(h)                                                       # (B, D)
# --8<-- [end:toy_mlp]


DATA_POINTS = 20_000  # a fixed training set, drawn once with the seed


def main(argv=None) -> int:
    """`python -m difflearn.toy_mlp`: train `toy2d-mlp` and write its weights, config and card."""
    from safetensors.torch import save_file

    from . import toy
    from .pretrained import WEIGHTS, schedule_from_config
    from .train import TrainConfig, train_diffusion

    p = argparse.ArgumentParser(description=main.__doc__)
    p.add_argument("--data", default="checkerboard", choices=DATASETS)
    p.add_argument("--steps", type=int, default=8000)
    p.add_argument("--batch", type=int, default=512)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, default=WEIGHTS)
    args = p.parse_args(argv)
    if args.data not in DATASETS:
        raise ValueError(f"data must be one of {DATASETS}, got {args.data!r}")
    schedule = {"schedule": "discrete", "beta_schedule": "linear", "num_timesteps": 1000}
    kwargs = dict(dim=2, hidden=128, depth=3, emb_dim=64)
    points = getattr(toy, args.data)(DATA_POINTS, generator=torch.Generator().manual_seed(args.seed)).float()
    config = TrainConfig(steps=args.steps, batch_size=args.batch, lr=1e-3, warmup=200, ema_decay=0.998,
                         seed=args.seed, log_every=100, progress=False, checkpoint_every=10**9)
    result = train_diffusion(ToyMLP(**kwargs), points, schedule_from_config(schedule), config=config,
                             device="cpu")
    command = (f"OMP_NUM_THREADS=1 python -m difflearn.toy_mlp --data {args.data} --steps {args.steps} "
               f"--batch {args.batch} --seed {args.seed}")
    card = {"name": "toy2d-mlp", "class": "ToyMLP", "kwargs": kwargs, "schedule": schedule,
            "model_type": "noise", "data": f"difflearn.toy.{args.data}, {DATA_POINTS} points",
            "command": command, "steps": result.step, "batch_size": args.batch, "lr": config.lr,
            "ema_decay": config.ema_decay, "seed": args.seed,
            "device": f"CPU ({platform.machine()}, 1 thread)", "torch": torch.__version__,
            "wall_time_s": round(result.wall_s, 1), "final_loss": round(result.final_loss(200), 4),
            "params": sum(q.numel() for q in result.ema.parameters())}
    args.out.mkdir(parents=True, exist_ok=True)
    save_file({k: v.contiguous() for k, v in result.ema.state_dict().items()},
              str(args.out / "toy2d-mlp.safetensors"))
    (args.out / "toy2d-mlp.json").write_text(json.dumps(card, indent=2) + "\n")
    rows = "\n".join(f"| {k} | {v} |" for k, v in card.items() if k not in ("kwargs", "schedule"))
    (args.out / "toy2d-mlp.md").write_text(
        f"# toy2d-mlp\n\nA `ToyMLP` noise-prediction model (difflearn.toy_mlp) for 2-D toy data, trained "
        f"on the CPU.\n\n| | |\n| --- | --- |\n{rows}\n| architecture | ToyMLP({kwargs}) |\n"
        f"| schedule | {schedule} |\n")
    print(json.dumps(card, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
