"""difflearn.data and difflearn.metrics: the digits, the Fréchet distance, the digits FID."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg
import torch
from sklearn.datasets import load_digits as sklearn_digits

from difflearn.data import load_digits, split
from difflearn.metrics import digits_fid, frechet_distance, gaussian_fit


def bilinear_matrix(n: int, m: int) -> np.ndarray:
    """(m, n) matrix of 1-D linear interpolation at pixel centres (half-pixel convention, edges clamped)."""
    U = np.zeros((m, n))
    for j in range(m):
        src = max((j + 0.5) * n / m - 0.5, 0.0)
        i0 = int(np.floor(src))
        i1, w = min(i0 + 1, n - 1), src - i0
        U[j, i0] += 1 - w
        U[j, i1] += w
    return U


def test_digits_native_and_upsampled():
    raw = sklearn_digits()
    x, y = load_digits(8)
    assert x.shape == (1797, 1, 8, 8) and y.shape == (1797,) and y.dtype == torch.int64
    np.testing.assert_allclose(x[:, 0].numpy(), raw.images / 8.0 - 1.0, atol=1e-7)
    np.testing.assert_array_equal(y.numpy(), raw.target)
    x16, _ = load_digits(16)
    U = bilinear_matrix(8, 16)
    ref = U @ (raw.images / 8.0 - 1.0) @ U.T                 # separable bilinear upsampling, by hand
    np.testing.assert_allclose(x16[:, 0].numpy(), ref, atol=1e-6)
    assert float(x16.min()) >= -1.0 and float(x16.max()) <= 1.0
    with pytest.raises(ValueError, match="size must be one of"):
        load_digits(12)


def test_split_is_disjoint_and_complete():
    a, b = split(1797, 0.5, seed=0)
    assert len(a) == 898 and len(set(a.tolist()) | set(b.tolist())) == 1797
    assert not set(a.tolist()) & set(b.tolist())


def test_gaussian_fit_matches_numpy():
    f = torch.randn(200, 6, generator=torch.Generator().manual_seed(0), dtype=torch.float64) * 3 + 1
    mu, cov = gaussian_fit(f)
    np.testing.assert_allclose(mu.numpy(), f.numpy().mean(0), atol=1e-12)
    np.testing.assert_allclose(cov.numpy(), np.cov(f.numpy(), rowvar=False), atol=1e-12)


def test_frechet_distance_matches_scipy_sqrtm_closed_form():
    rng = np.random.default_rng(0)
    d = 7
    A, B = rng.normal(size=(d, d)), rng.normal(size=(d, d))
    cov1, cov2 = A @ A.T + 0.1 * np.eye(d), B @ B.T + 0.1 * np.eye(d)
    mu1, mu2 = rng.normal(size=d), rng.normal(size=d)
    ref = np.sum((mu1 - mu2) ** 2) + np.trace(cov1 + cov2 - 2 * scipy.linalg.sqrtm(cov1 @ cov2).real)
    got = frechet_distance(torch.tensor(mu1), torch.tensor(cov1), torch.tensor(mu2), torch.tensor(cov2))
    assert got == pytest.approx(ref, rel=1e-8)
    # 1-D: the 2-Wasserstein distance of two normals is (m1 - m2)^2 + (s1 - s2)^2
    got1 = frechet_distance(torch.tensor([1.0]), torch.tensor([[4.0]]), torch.tensor([-2.0]), torch.tensor([[9.0]]))
    assert got1 == pytest.approx(9.0 + 1.0)
    assert frechet_distance(torch.tensor(mu1), torch.tensor(cov1), torch.tensor(mu1), torch.tensor(cov1)) \
        == pytest.approx(0.0, abs=1e-8)


def test_digits_fid_real_vs_real_is_small_and_real_vs_noise_is_large():
    x, _ = load_digits(8)
    a, b = split(len(x), 0.5, seed=0)
    real_real = digits_fid(x[a], x[b])
    noise = torch.rand(len(b), 1, 8, 8, generator=torch.Generator().manual_seed(0)) * 2 - 1
    real_noise = digits_fid(x[a], noise)
    assert real_real < 0.15 * real_noise, (real_real, real_noise)
    # a few wrong classes make it grow: only 0s and 1s against all digits
    _, y = load_digits(8)
    few = x[(y == 0) | (y == 1)]
    assert digits_fid(x[a], few) > 3 * real_real
