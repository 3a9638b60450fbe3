"""Exercise: how many parameters does a DiT block have?

Width D, text width d. Self-attention: W_Q, W_K, W_V without bias and W_O with one,
4 D^2 + D. Cross-attention: W_Q and W_O as before, W_K and W_V map d -> D:
2 D^2 + 2 D d + D, plus its LayerNorm (2 D). MLP D -> 4D -> D: 8 D^2 + 5 D. The
adaLN-Zero regression c -> 6 D: 6 D^2 + 6 D. The two other LayerNorms have no
parameters (the modulation replaces their affine part). In all
20 D^2 + 2 D d + 15 D.
"""

from difflearn.models.dit import DiTBlock

for D, d in [(96, 64), (128, 64), (1152, 1152)]:
    block = DiTBlock(D, heads=4, context_dim=d)
    n = sum(p.numel() for p in block.parameters())
    formula = 20 * D * D + 2 * D * d + 15 * D
    print(f"D={D}, d={d}: {n:,} parameters, formula {formula:,}")
    assert n == formula
# at DiT-XL width (D = 1152) the D^2 terms are all that matter: 6/20 of every block
# is the adaLN regression, which is why PixArt-alpha shares one across blocks
