"""Figures for the page "The ADM UNet, line by line": the architecture, drawn from the module tree."""

import matplotlib.pyplot as plt
from matplotlib.patches import FancyArrowPatch, Rectangle

from figures._style import PALETTE, apply_style

DEPENDS = ["src/difflearn/models/adm/unet.py", "src/difflearn/models/adm/blocks.py",
           "src/difflearn/models/adm/attention.py", "src/difflearn/models/adm/presets.py"]
SEED = 0
FIGURES = {
    "unet-architecture": {
        "alt": "A U-shaped diagram of the 64x64 ADM UNet read off the model: from left to right the input "
               "blocks go down four levels (64, 32, 16 and 8 pixels, 192 to 768 channels), the middle block "
               "sits at the bottom, and the output blocks climb back up. Blocks with attention are marked, "
               "downsampling and upsampling ResBlocks have their own colour, and grey arcs join each input "
               "block to the output block that receives it as a skip connection.",
        "caption": "The 64x64_diffusion preset, drawn by walking `input_blocks`, `middle_block` and "
                   "`output_blocks` of the model built on the meta device. Height is the resolution level, "
                   "the number is the output width of each block; every input block's output is concatenated "
                   "to the input of one output block (arcs).",
    },
}

KINDS = {"conv": PALETTE[7], "res": PALETTE[0], "res+attn": PALETTE[1], "down": PALETTE[2], "up": PALETTE[3],
         "middle": PALETTE[4]}


def describe(block) -> tuple[str, int]:
    """Kind and output channels of one TimestepEmbedSequential."""
    from difflearn.models import AttentionBlock, Downsample, ResBlock, Upsample

    layers = list(block)
    last = layers[-1]
    kind = "res"
    if isinstance(layers[0], ResBlock) is False:
        kind = "down" if isinstance(layers[0], Downsample) else "conv"
    if any(isinstance(m, AttentionBlock) for m in layers):
        kind = "res+attn"
    if isinstance(last, ResBlock) and last.updown and len(layers) == 1:
        kind = "down"
    if isinstance(last, Upsample) or (isinstance(last, ResBlock) and last.updown and len(layers) > 1):
        kind = "up"
    first = layers[0]
    width = getattr(first, "out_channels", None) or first.weight.shape[0]
    return kind, width


def render(quick: bool, device: str) -> dict:
    from difflearn.models import create_model

    apply_style()
    model = create_model("64x64_diffusion", device="meta")
    fig, ax = plt.subplots(figsize=(12, 4.6))
    ax.grid(False)
    level, pos, centers = 0, 0, []
    for block in model.input_blocks:
        kind, width = describe(block)
        centers.append(_box(ax, pos, level, kind, width))
        if kind == "down":
            level += 1
        pos += 1
    _box(ax, pos, level + 0.6, "middle", model.middle_block[0].out_channels)
    pos += 1
    for j, block in enumerate(model.output_blocks):
        kind, width = describe(block)
        x_out, y_out = _box(ax, pos, level, kind, width)
        x_in, y_in = centers[len(centers) - 1 - j]
        ax.add_patch(FancyArrowPatch((x_in, y_in + 0.3), (x_out, y_out + 0.3),
                                     connectionstyle="arc3,rad=-0.12",
                                     arrowstyle="-|>", mutation_scale=8, color="0.6", lw=0.7, zorder=0))
        if kind == "up":
            level -= 1
        pos += 1
    sizes = [model.image_size // 2**i for i in range(len(model.channel_mult))]
    ax.set_yticks([-i for i in range(len(sizes))], [f"{s}x{s}" for s in sizes])
    ax.set_xticks([])
    ax.set_xlim(-1, pos)
    ax.set_ylim(-len(sizes) - 0.2, 1.6)
    ax.set_ylabel("resolution")
    for spine in ("left", "bottom"):
        ax.spines[spine].set_visible(False)
    handles = [Rectangle((0, 0), 1, 1, color=c) for c in KINDS.values()]
    ax.legend(handles, ["input conv", "ResBlock", "ResBlock + attention", "downsample (ResBlock)",
                        "upsample (ResBlock)", "middle: Res, attention, Res"], ncol=3, loc="upper center",
              bbox_to_anchor=(0.5, 0.0), fontsize=9)  # under the diagram, clear of the skip arcs
    ax.set_title("ADM UNet, 64x64_diffusion: input blocks (left), middle block, output blocks (right)")
    return {"unet-architecture": fig}


def _box(ax, x, level, kind, width):
    y = -level
    ax.add_patch(Rectangle((x - 0.4, y - 0.3), 0.8, 0.6, color=KINDS[kind], zorder=2))
    ax.text(x, y, str(width), ha="center", va="center", fontsize=6.5, color="white", zorder=3, rotation=90,
            gid="detail")  # channel counts: read them zoomed in
    return x, y
