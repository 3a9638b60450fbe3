"""DiT, part by part: patchify is a linear map of each patch, unpatchify puts patches
back, adaLN-Zero makes a fresh model the zero function and modulate is h (1 + g) + b."""

import torch
import torch.nn.functional as F
from difflearn.models import DiT
from difflearn.models.dit import modulate, unpatchify

torch.manual_seed(0)
dit = DiT(hidden=100, depth=4, heads=4, context_dim=64)  # glyphs-dit's denoiser
z = torch.randn(2, 4, 8, 8)  # two latents
t = torch.tensor([250.0, 750.0])
context = torch.randn(2, 16, 64)  # what the text encoder would give

# 1. patchify: a stride-2 convolution = one linear map per 2x2 patch
tokens = dit.x_embedder(z).flatten(2).transpose(1, 2)  # (2, 16, 100)
patches = F.unfold(z, kernel_size=2, stride=2).transpose(1, 2)  # (2, 16, 4 * 2 * 2)
W = dit.x_embedder.weight.reshape(100, -1)
assert torch.allclose(tokens, patches @ W.T + dit.x_embedder.bias, atol=1e-5)
print(f"{tuple(z.shape)} -> {tokens.shape[1]} tokens of width {tokens.shape[2]}")

# 2. unpatchify inverts the cut: tokens holding each patch's pixels, in (p, p, C)
#    order, give the latent back exactly
as_ppc = patches.reshape(2, 16, 4, 2, 2).permute(0, 1, 3, 4, 2).reshape(2, 16, 16)
assert torch.equal(unpatchify(as_ppc, 2, 4), z)

# 3. adaLN-Zero: every block starts as the identity, the model outputs zero
with torch.no_grad():
    c = dit.t_embedder(torch.randn(2, 100))
    h = tokens + dit.pos_embed
    for block in dit.blocks:
        assert torch.equal(block(h, c, context), h)
    assert float(dit(z, t, context).abs().max()) == 0.0

# 4. modulate: the normalised tokens, scaled by (1 + gamma) and shifted by beta,
#    with one gamma and beta per sample
h = torch.randn(2, 16, 100)
gamma, beta = torch.randn(2, 100), torch.randn(2, 100)
ref = torch.stack([h[i] * (1 + gamma[i]) + beta[i] for i in range(2)])
assert torch.allclose(modulate(h, beta, gamma), ref)
n = sum(p.numel() for p in dit.parameters())
print(
    f"DiT: {n:,} parameters, {sum(p.numel() for p in dit.blocks[0].parameters()):,}"
    " per block"
)
