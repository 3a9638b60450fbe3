"""Exercise: what does cross-attention cost next to self-attention?

For N image positions of width C and L text tokens of width d, the projections cost
N C^2 (queries) + 2 L d C (keys, values) + N C^2 (output) multiply-adds, and the
scores and weighted sum 2 N L C. Self-attention on the same positions costs 4 N C^2 +
2 N^2 C. With N = 64 (an 8x8 map), L = 16 and C = 128, d = 64, cross-attention is
the cheaper one, and it grows linearly in N where self-attention grows quadratically.
"""

import torch
from difflearn.models.cross_attention import Attention
from torch.nn.attention import SDPBackend, sdpa_kernel
from torch.utils.flop_counter import FlopCounterMode

C, d, L = 128, 64, 16
cross, self_attn = Attention(C, 4, context_dim=d), Attention(C, 4)


def flops(module, *args):
    with torch.no_grad(), sdpa_kernel(SDPBackend.MATH):  # counted matrix products
        with FlopCounterMode(display=False) as counter:
            module(*args)
    return counter.get_total_flops()


for N in (16, 64, 256):
    x, ctx = torch.randn(1, N, C), torch.randn(1, L, d)
    want_cross = 2 * (2 * N * C * C + 2 * L * d * C + 2 * N * L * C)
    want_self = 2 * (4 * N * C * C + 2 * N * N * C)
    got_cross, got_self = flops(cross, x, ctx), flops(self_attn, x)
    print(
        f"N={N:3d}: cross {got_cross / 1e6:.2f} MFLOP, self {got_self / 1e6:.2f} MFLOP"
    )
    assert got_cross == want_cross and got_self == want_self
