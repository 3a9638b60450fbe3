"""Exercise: how does a DiT block's cost grow with the number of tokens?

With T image tokens of width D and L text tokens of width d, the matrix products of
one block cost, in multiply-adds: T (4 D^2) for self-attention's projections,
2 T^2 D for its scores and weighted sum, T (2 D^2) + L (2 D d) for cross-attention's
projections, 2 T L D for its scores and sum, 8 T D^2 for the MLP and 6 D^2 for the
adaLN regression (once per sample). FLOPs are twice that. Halving the patch size
quadruples T: the linear terms grow 4x, the attention terms 16x.
"""

import torch
from difflearn.models.dit import DiTBlock
from torch.nn.attention import SDPBackend, sdpa_kernel
from torch.utils.flop_counter import FlopCounterMode

D, d, L = 96, 64, 16
block = DiTBlock(D, heads=4, context_dim=d)


def predicted(T):
    macs = 4 * T * D * D + 2 * T * T * D + 2 * T * D * D + 2 * L * D * d
    macs += 2 * T * L * D + 8 * T * D * D + 6 * D * D
    return 2 * macs


for p in (4, 2, 1):
    T = (8 // p) ** 2  # tokens of an 8x8 latent
    x, c, ctx = torch.randn(1, T, D), torch.randn(1, D), torch.randn(1, L, d)
    # the plain (math) attention kernel: its matrix products are counted on a CPU
    with torch.no_grad(), sdpa_kernel(SDPBackend.MATH):
        with FlopCounterMode(display=False) as counter:
            block(x, c, ctx)
    got = counter.get_total_flops()
    print(
        f"patch {p}: T = {T:2d}, {got / 1e6:6.2f} MFLOP", f"({predicted(T) / 1e6:.2f})"
    )
    assert got == predicted(T)
