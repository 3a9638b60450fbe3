"""The networks of the latent text-to-image family, each against an independent reference:
diffusers' AutoencoderKL, torch.distributions, attention written out with einsum, and patch
geometry checked pixel by pixel."""

from __future__ import annotations

import pytest
import torch

from difflearn.data import tokenize
from difflearn.models import DiT, LatentUNet, MMDiT, SpatialTransformer, TextConditioned, TextEncoder
from difflearn.models.autoencoder import AutoencoderKL, DiagonalGaussian
from difflearn.models.cross_attention import Attention
from difflearn.models.dit import DiTBlock, sincos_2d, unpatchify
from difflearn.models.mmdit import MMDiTBlock

G = torch.Generator().manual_seed(0)


def _randomise(module, std=0.1, seed=0):
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.randn(p.shape, generator=g) * std)
    return module


def test_autoencoder_matches_diffusers():
    diffusers = pytest.importorskip("diffusers")
    ours = _randomise(AutoencoderKL()).eval()
    theirs = diffusers.AutoencoderKL(**ours.diffusers_config()).eval()
    theirs.load_state_dict(ours.state_dict(), strict=True)  # the same key names and shapes
    x = torch.rand(3, 3, 32, 32, generator=G) * 2 - 1
    z = torch.randn(3, 4, 8, 8, generator=G)
    with torch.no_grad():
        p_ours, p_theirs = ours.encode(x), theirs.encode(x).latent_dist
        torch.testing.assert_close(p_ours.mean, p_theirs.mean, rtol=1e-5, atol=1e-5)
        torch.testing.assert_close(p_ours.logvar, p_theirs.logvar, rtol=1e-5, atol=1e-5)
        torch.testing.assert_close(ours.decode(z), theirs.decode(z).sample, rtol=1e-5, atol=1e-5)
        torch.testing.assert_close(ours(x)[0], theirs(x).sample, rtol=1e-5, atol=1e-5)  # decode(mean)
    assert sum(p.numel() for p in ours.parameters()) == sum(p.numel() for p in theirs.parameters())


def test_posterior_kl_and_sample_against_torch_distributions():
    moments = torch.randn(5, 8, 8, 8, generator=G, dtype=torch.float64)
    post = DiagonalGaussian(moments)
    q = torch.distributions.Normal(moments[:, :4], torch.exp(0.5 * moments[:, 4:]))
    p = torch.distributions.Normal(torch.zeros(()), torch.ones(()))
    kl = torch.distributions.kl_divergence(q, p).flatten(1).sum(1)
    torch.testing.assert_close(post.kl(), kl, rtol=1e-12, atol=1e-12)
    z = post.sample(torch.Generator().manual_seed(1))
    eps = torch.randn(post.mean.shape, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    torch.testing.assert_close(z, post.mean + q.stddev * eps)


def test_autoencoder_shape_errors_name_the_expected_shape():
    vae = AutoencoderKL()
    with pytest.raises(ValueError, match=r"latent z must have shape \(B, 4, 8, 8\), got \(2, 4, 16, 16\)"):
        vae.decode(torch.zeros(2, 4, 16, 16))
    with pytest.raises(ValueError, match=r"latent z must have shape \(B, 4, 8, 8\), got \(4, 8, 8\)"):
        vae.decode(torch.zeros(4, 8, 8))
    with pytest.raises(ValueError, match=r"x must have shape \(B, 3, 32, 32\)"):
        vae.encode(torch.zeros(1, 1, 32, 32))
    with pytest.raises(ValueError, match="multiples of norm_num_groups"):
        AutoencoderKL(block_out_channels=(12, 32, 64))


def _attention_reference(x, ctx, attn):
    """softmax(Q K^T / sqrt(d_h)) V per head, written out with einsum."""
    B, N, C = x.shape
    H = attn.heads
    q = (x @ attn.to_q.weight.T).reshape(B, N, H, C // H)
    k = (ctx @ attn.to_k.weight.T).reshape(B, ctx.shape[1], H, C // H)
    v = (ctx @ attn.to_v.weight.T).reshape(B, ctx.shape[1], H, C // H)
    w = torch.softmax(torch.einsum("bnhd,blhd->bhnl", q, k) / (C // H) ** 0.5, dim=-1)
    out = torch.einsum("bhnl,blhd->bnhd", w, v).reshape(B, N, C)
    return attn.to_out[0](out)


def test_cross_attention_against_einsum_and_token_order():
    attn = _randomise(Attention(32, 4, context_dim=24), std=0.3).double()
    x = torch.randn(2, 10, 32, generator=G, dtype=torch.float64)
    ctx = torch.randn(2, 7, 24, generator=G, dtype=torch.float64)
    torch.testing.assert_close(attn(x, ctx), _attention_reference(x, ctx, attn), rtol=1e-10, atol=1e-12)
    # cross-attention has no notion of word order: permuting the context tokens changes nothing
    torch.testing.assert_close(attn(x, ctx[:, torch.randperm(7, generator=G)]), attn(x, ctx))
    with pytest.raises(ValueError, match="multiple of heads"):
        Attention(30, 4)


def test_fresh_blocks_are_the_identity_and_fresh_denoisers_output_zero():
    x = torch.randn(2, 16, 48, generator=G)
    c = torch.randn(2, 48, generator=G)
    ctx = torch.randn(2, 16, 64, generator=G)
    dit = DiT(hidden=48, depth=2, heads=4)
    for block in dit.blocks:  # adaLN-Zero (and the zero cross-attention output)
        torch.testing.assert_close(block(x, c, ctx), x)
    assert isinstance(dit.blocks[0], DiTBlock)
    st = SpatialTransformer(64, 4, 64)
    feat = torch.randn(2, 64, 4, 4, generator=G)
    torch.testing.assert_close(st(feat, ctx), feat)
    z = torch.randn(2, 4, 8, 8, generator=G)
    t = torch.tensor([10.0, 900.0])
    for net in (dit, MMDiT(hidden=32, depth=2), LatentUNet(model_channels=32)):
        with torch.no_grad():
            out = net(z, t, ctx)
        assert out.shape == z.shape and float(out.abs().max()) == 0.0, type(net).__name__


def test_unpatchify_places_every_patch_and_channel():
    p, C, g = 2, 3, 4
    # token (r, c) carries value 1000 r + 100 c + 10 (i p + j) + channel at output index (i, j, channel)
    r, c, i, j, ch = torch.meshgrid(*(torch.arange(n) for n in (g, g, p, p, C)), indexing="ij")
    tokens = (1000 * r + 100 * c + 10 * (i * p + j) + ch).reshape(1, g * g, p * p * C).double()
    img = unpatchify(tokens, p, C)  # (1, C, 8, 8)
    for y in range(g * p):
        for x in range(g * p):
            for k in range(C):
                want = 1000 * (y // p) + 100 * (x // p) + 10 * ((y % p) * p + x % p) + k
                assert img[0, k, y, x] == want
    # and patchify (the stride-p convolution) sees patches in the same row-major order
    dit = DiT(hidden=16, depth=1, heads=2)
    z = torch.randn(1, 4, 8, 8, generator=G)
    emb = dit.x_embedder(z).flatten(2).transpose(1, 2)  # (1, 16, hidden)
    patch = z[0, :, 2:4, 4:6]  # token (1, 2): row 1, column 2
    want = (dit.x_embedder.weight * patch).sum((1, 2, 3)) + dit.x_embedder.bias
    torch.testing.assert_close(emb[0, 1 * 4 + 2], want)


def test_sincos_position_code():
    code = sincos_2d(8, 3)  # (9, 8): rows use the first 4 channels, columns the last 4
    omega = torch.tensor([1.0, 0.01])
    for r in range(3):
        for c in range(3):
            want = torch.cat([torch.sin(r * omega), torch.cos(r * omega), torch.sin(c * omega), torch.cos(c * omega)])
            torch.testing.assert_close(code[3 * r + c], want)
    with pytest.raises(ValueError, match="multiple of 4"):
        sincos_2d(6, 2)


def test_joint_attention_against_one_attention_over_both_sequences():
    block = _randomise(MMDiTBlock(32, 4), std=0.2).double()
    x = torch.randn(2, 16, 32, generator=G, dtype=torch.float64)
    c = torch.randn(2, 5, 32, generator=G, dtype=torch.float64)
    y = torch.randn(2, 32, generator=G, dtype=torch.float64)
    out_x, out_c = block(x, c, y)

    def reference(stream, h, q_all, k_all, v_all, sl):
        mod = stream.adaLN_modulation(y).chunk(6, dim=1)
        w = torch.softmax(torch.einsum("bhnd,bhld->bhnl", q_all, k_all) / 8**0.5, -1)
        a = torch.einsum("bhnl,bhld->bhnd", w, v_all).transpose(1, 2).flatten(2)[:, sl]
        h = h + mod[2][:, None] * stream.proj(a)
        n2 = torch.nn.functional.layer_norm(h, (32,), eps=1e-6)
        return h + mod[5][:, None] * stream.mlp(n2 * (1 + mod[4][:, None]) + mod[3][:, None])

    qkv = []
    for stream, h in ((block.x_stream, x), (block.c_stream, c)):
        mod = stream.adaLN_modulation(y).chunk(6, dim=1)
        n1 = torch.nn.functional.layer_norm(h, (32,), eps=1e-6) * (1 + mod[1][:, None]) + mod[0][:, None]
        qkv.append(stream.qkv(n1))
    q, k, v = torch.cat(qkv, 1).reshape(2, 21, 3, 4, 8).permute(2, 0, 3, 1, 4)
    torch.testing.assert_close(out_x, reference(block.x_stream, x, q, k, v, slice(0, 16)))
    torch.testing.assert_close(out_c, reference(block.c_stream, c, q, k, v, slice(16, 21)))
    last = MMDiTBlock(32, 4, last=True).double()
    assert last(x, c, y)[1] is c  # the last block leaves the text alone


def test_text_encoder_and_conditioned_model():
    te = TextEncoder()
    out = te(tokenize(["a red 3", "a small blue 7, rotated left, on a dark background"]))
    assert out.shape == (2, 16, 64) and torch.isfinite(out).all()
    with pytest.raises(ValueError, match=r"tokens must have shape \(B, 16\)"):
        te(torch.zeros(2, 10, dtype=torch.long))
    for backbone, kw in (("LatentUNet", {"model_channels": 32}), ("DiT", {"hidden": 32, "depth": 1}),
                         ("MMDiT", {"hidden": 32, "depth": 1})):
        model = TextConditioned(backbone, kw, {})
        with pytest.raises(ValueError, match="outside the vocabulary"):
            model.encode_text("a purple 3")
        ctx = model.encode_text(["a red 3"] * 2)
        z = torch.randn(2, 4, 8, 8, generator=G)
        torch.testing.assert_close(model(z, torch.tensor([5.0, 5.0]), tokenize(["a red 3"] * 2)),
                                   model.denoiser(z, torch.tensor([5.0, 5.0]), ctx))
    with pytest.raises(ValueError, match="backbone must be one of"):
        TextConditioned("Transformer", {}, {})
    with pytest.raises(ValueError, match=r"context must have shape \(2, L, 64\)"):
        LatentUNet(model_channels=32)(torch.zeros(2, 4, 8, 8), torch.zeros(2), torch.zeros(3, 16, 64))
