"""The two seed programs in examples/ run as written, on a slice of the data."""

import runpy
from pathlib import Path

import numpy as np

from ember import datasets
from ember.datasets.fixtures import write_cifar10_binary

EXAMPLES = Path(__file__).parents[1] / "examples"


def test_mnist_seed_program_learns_and_prints_like_keras(monkeypatch, capsys):
    (x_train, y_train), (x_test, y_test) = datasets.mnist.load_data()  # real MNIST (CI installs it)
    small = ((x_train[:3000], y_train[:3000]), (x_test[:1000], y_test[:1000]))
    monkeypatch.setattr(datasets.mnist, "load_data", lambda: small)
    namespace = runpy.run_path(str(EXAMPLES / "mnist_mlp.py"))
    # Keras reaches ~0.92 on this slice after 5 epochs; chance is 0.10.
    assert namespace["test_acc"] > 0.88
    out = capsys.readouterr().out
    assert "Epoch 5/5" in out and "94/94" in out
    assert out.strip().splitlines()[-1].startswith("32/32 - ")


def test_cifar10_seed_program_runs_on_a_real_format_file(tmp_path, monkeypatch, capsys):
    write_cifar10_binary(
        tmp_path / "cifar-10" / "cifar-10-binary.tar.gz", n_train_per_batch=20, n_test=20, seed=0
    )
    monkeypatch.setenv("EMBER_DATA", str(tmp_path))
    namespace = runpy.run_path(str(EXAMPLES / "cifar10_cnn.py"))
    model = namespace["model"]
    assert model.count_params() == 122_570
    assert namespace["x_train"].shape == (100, 32, 32, 3)
    history = model.history.history
    assert len(history["loss"]) == 10 and history["loss"][-1] < history["loss"][0]
    assert np.isfinite(namespace["test_loss"])
    assert "Epoch 10/10" in capsys.readouterr().out
