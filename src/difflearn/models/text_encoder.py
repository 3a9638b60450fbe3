r"""A tiny text encoder, and a denoiser paired with one.

Stable Diffusion reads its prompt with a frozen CLIP text transformer (Radford et al.,
2021); the text-to-image model of latent diffusion (Rombach et al., 2022, Sec. 4.3.1)
trained a BERT-like transformer $\tau_\theta$ jointly with the UNet instead. We do
the latter, at the scale of the glyph captions' 30-word vocabulary: token and
position embeddings, a few pre-norm transformer layers (Vaswani et al., 2017) with
bidirectional attention, and a final LayerNorm,

$$c = \tau_\theta(w_1, \dots, w_L) \in \mathbb R^{L \times d}.$$

Every token's output goes to the denoiser's cross-attention (keys and values); the
output at the `<start>` token, $c_0$, which attends to the whole caption, is the
"pooled" caption vector (as BERT's `[CLS]`) for backbones that also condition on one.
"""

from __future__ import annotations

import torch
from torch import nn

from ..data.captions import CONTEXT_LENGTH, VOCAB, tokenize


class TransformerLayer(nn.Module):
    """Pre-norm self-attention and MLP, each with a residual connection."""

    def __init__(self, width: int, heads: int):
        super().__init__()
        self.norm1 = nn.LayerNorm(width)
        self.attn = nn.MultiheadAttention(width, heads, batch_first=True)
        self.norm2 = nn.LayerNorm(width)
        self.mlp = nn.Sequential(
            nn.Linear(width, 4 * width), nn.GELU(), nn.Linear(4 * width, width)
        )

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        a = self.norm1(h)
        h = h + self.attn(a, a, a, need_weights=False)[0]
        return h + self.mlp(self.norm2(h))


# --8<-- [start:text_encoder]
class TextEncoder(nn.Module):
    """Token ids `(B, L)` -> contextual embeddings `(B, L, width)`."""

    def __init__(
        self,
        vocab_size: int = len(VOCAB),
        context_length: int = CONTEXT_LENGTH,
        width: int = 64,
        layers: int = 2,
        heads: int = 4,
    ):
        super().__init__()
        self.vocab_size, self.context_length = vocab_size, context_length
        self.width, self.layers, self.heads = width, layers, heads
        self.token_embedding = nn.Embedding(vocab_size, width)
        self.position_embedding = nn.Parameter(
            0.02 * torch.randn(context_length, width)
        )
        self.blocks = nn.ModuleList(
            TransformerLayer(width, heads) for _ in range(layers)
        )
        self.final_norm = nn.LayerNorm(width)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        if tokens.dim() != 2 or tokens.shape[1] != self.context_length:
            raise ValueError(
                f"tokens must have shape (B, {self.context_length}), "
                f"got {tuple(tokens.shape)}"
            )
        h = self.token_embedding(tokens) + self.position_embedding  # (B, L, width)
        for block in self.blocks:
            h = block(h)
        return self.final_norm(h)


# --8<-- [end:text_encoder]


# --8<-- [start:text_conditioned]
class TextConditioned(nn.Module):
    """A denoiser with its text encoder: `model(x_t, t, tokens)`.

    `denoiser(x_t, t, context)` is a `LatentUNet`, a `DiT` or an `MMDiT`; the pair is
    trained jointly, and `model(x, t, tokens)` is what `model_wrapper` calls with
    caption tokens as the condition. To encode a prompt once instead of at every step,
    call `text_encoder` yourself and hand `denoiser` the context
    (`difflearn.pipeline` does).
    """

    def __init__(self, backbone: str, denoiser: dict, text_encoder: dict):
        super().__init__()
        from . import dit, latent_unet, mmdit

        classes = {
            "LatentUNet": latent_unet.LatentUNet,
            "DiT": dit.DiT,
            "MMDiT": mmdit.MMDiT,
        }
        if backbone not in classes:
            raise ValueError(
                f"backbone must be one of {tuple(classes)}, got {backbone!r}"
            )
        self.backbone = backbone
        self.text_encoder = TextEncoder(**text_encoder)
        kwargs = {
            k: tuple(v) if isinstance(v, list) else v for k, v in denoiser.items()
        }
        self.denoiser = classes[backbone](**kwargs)

    def encode_text(self, captions) -> torch.Tensor:
        """Context `(B, L, width)` of a caption or a list of captions."""
        tokens = tokenize(captions).to(self.text_encoder.position_embedding.device)
        return self.text_encoder(tokens)

    def forward(self, x, t, tokens: torch.Tensor) -> torch.Tensor:
        return self.denoiser(x, t, self.text_encoder(tokens))


# --8<-- [end:text_conditioned]


__all__ = ["TextConditioned", "TextEncoder", "TransformerLayer"]
