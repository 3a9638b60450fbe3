"""The two head orders read the same 3C channels differently;
SDPA and einsum agree on each.
"""

import torch
from difflearn.models import QKVAttention, QKVAttentionLegacy

torch.manual_seed(0)
heads, d, T = 4, 16, 64
qkv = torch.randn(
    2, 3 * heads * d, T
)  # (B, 3C, T), what the 1x1 qkv convolution produces

legacy = QKVAttentionLegacy(heads)(qkv)  # channels read as (H, 3, d)
new = QKVAttention(heads)(qkv)  # channels read as (3, H, d)
assert legacy.shape == new.shape == (2, heads * d, T)
assert (legacy - new).abs().max() > 0.1  # different functions of the same numbers

# the new order is the legacy order after permuting the channels of qkv
# from (3, H, d) to (H, 3, d)
permuted = qkv.reshape(2, 3, heads, d, T).transpose(1, 2).reshape(2, 3 * heads * d, T)
assert torch.allclose(QKVAttentionLegacy(heads)(permuted), new, atol=1e-6)

# fused scaled_dot_product_attention == the plain einsum path
for cls in (QKVAttentionLegacy, QKVAttention):
    assert torch.allclose(
        cls(heads, fast=True)(qkv), cls(heads, fast=False)(qkv), atol=1e-6
    )
