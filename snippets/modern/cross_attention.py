"""Cross-attention: every image position takes a convex combination of the words'
values, and the order of the words does not matter to it (their positions reach it
only through the text encoder)."""

import torch
from difflearn.data import tokenize
from difflearn.models import TextEncoder
from difflearn.models.cross_attention import Attention

torch.manual_seed(0)
encoder = TextEncoder()  # 30 tokens, width 64, 2 layers, 4 heads
context = encoder(tokenize(["a small red 3, rotated left", "a cyan 7"]))  # (2, 16, 64)
attn = Attention(dim=128, heads=4, context_dim=64)  # image features of width 128
phi = torch.randn(2, 16, 128)  # 16 positions (a 4x4 feature map)

with torch.no_grad():
    out = attn(phi, context)  # (2, 16, 128)
    # the same computation by hand, keeping the attention weights
    q = attn.to_q(phi).reshape(2, 16, 4, 32).transpose(1, 2)  # (2, 4, 16, 32)
    k = attn.to_k(context).reshape(2, 16, 4, 32).transpose(1, 2)
    v = attn.to_v(context).reshape(2, 16, 4, 32).transpose(1, 2)
    weights = torch.softmax(q @ k.transpose(-1, -2) / 32**0.5, dim=-1)  # (2, 4, 16, 16)
    mixed = (weights @ v).transpose(1, 2).reshape(2, 16, 128)
    assert torch.allclose(attn.to_out[0](mixed), out, atol=1e-5)
assert (weights >= 0).all() and torch.allclose(weights.sum(-1), torch.ones(2, 4, 16))
print(
    "position 0, head 0 of caption 0 attends to token ids",
    tokenize("a small red 3, rotated left")[0].tolist(),
    "with weights",
    [round(w, 2) for w in weights[0, 0, 0].tolist()],
)

# shuffling the context tokens changes nothing: no word order inside cross-attention
perm = torch.randperm(16)
with torch.no_grad():
    assert torch.allclose(attn(phi, context[:, perm]), out, atol=1e-5)
