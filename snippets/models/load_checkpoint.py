"""Save a (small) ADM UNet, load it back with and without a preset,
and see a wrong flag named.
"""

import tempfile
from pathlib import Path

import torch
from difflearn.models import create_model, load_checkpoint
from safetensors.torch import save_file

small = dict(
    model_channels=32, num_res_blocks=1, num_head_channels=16
)  # the 256x256 layout, narrow
model = create_model("256x256_diffusion", **small).eval()
for p in model.parameters():  # random weights, so the outputs mean something
    torch.nn.init.normal_(p, std=0.02)

with tempfile.TemporaryDirectory() as tmp:
    path = Path(tmp) / "tiny.safetensors"
    save_file(model.state_dict(), path)

    loaded = load_checkpoint(
        path, preset="256x256_diffusion", **small
    )  # strict=True inside
    x, t, y = (
        torch.randn(2, 3, 64, 64),
        torch.tensor([10.0, 900.0]),
        torch.tensor([1, 2]),
    )
    with torch.no_grad():
        assert torch.equal(loaded(x, t, y), model(x, t, y))

    try:
        load_checkpoint(path, preset="256x256_diffusion_uncond", **small)
    except ValueError as err:
        message = str(err)
    print(message)
    assert "unexpected keys (1): label_emb.weight" in message
    assert "likely wrong flag: class_cond" in message
