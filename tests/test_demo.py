"""difflearn.demo (what the notebooks share) and the metrics' resizing of other image sizes."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402

from difflearn import __version__  # noqa: E402
from difflearn.data import load_digits  # noqa: E402
from difflearn.demo import demo_env, show_grid  # noqa: E402
from difflearn.metrics import classifier_accuracy  # noqa: E402


def test_demo_env_reads_quick_mode_and_names_the_device(monkeypatch):
    monkeypatch.setenv("DIFFLEARN_QUICK", "1")
    env = demo_env()
    assert env.quick and "quick mode" in env.caption
    assert f"torch {torch.__version__}" in env.caption and f"difflearn {__version__}" in env.caption
    monkeypatch.setenv("DIFFLEARN_QUICK", "0")
    assert not demo_env().quick
    assert demo_env(device="cpu").device == "cpu"


def test_stamp_and_grid():
    env = demo_env(quick=True, device="cpu")
    fig, ax = plt.subplots()
    env.stamp(fig)
    assert any(t.get_text() == env.caption for t in fig.texts)
    images = torch.linspace(-1, 1, 5 * 64).reshape(5, 1, 8, 8)
    show_grid(images, ax, ncol=3)
    canvas = ax.images[0].get_array()
    assert canvas.shape == (2 * 9, 3 * 9)  # 2 rows x 3 columns of 8x8 tiles with 1-pixel gaps
    assert float(canvas[0, 0]) == float(images[0, 0, 0, 0])
    plt.close(fig)


def test_accuracy_resizes_to_the_classifier():
    x8, y = load_digits(size=8)
    x16 = torch.nn.functional.interpolate(x8[:400].float(), size=(16, 16), mode="bilinear")
    # the shipped classifier works on 8x8; 16x16 inputs are shrunk back and still classified right
    assert classifier_accuracy(x16, y[:400]) > 0.9
