"""The ten Keras examples of examples/keras/ on images and models (not text) run as written, on a
slice of the data with at most two epochs, and their numbers check out; and run_with_keras.py
swaps only their import block for Keras.

Examples that stop on a missing or broken ember feature are marked xfail (strict: the mark must
go once the feature works), with the first error they hit.
"""

import runpy
import sys
import zipfile
from pathlib import Path

import h5py
import numpy as np
import pytest
import torch

from ember import datasets
from ember.datasets.fixtures import write_cifar10_binary
from ember.models.model import Model

EXAMPLES = Path(__file__).parents[1] / "examples" / "keras"
sys.path.append(str(EXAMPLES))  # for run_with_keras and the examples' _data
import run_with_keras  # noqa: E402  (examples/keras/ is not a package)


@pytest.fixture(scope="module")
def mnist():
    return datasets.mnist.load_data()


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    # These tiny models gain nothing from a second torch thread, and on a busy 2-core machine
    # each step then waits for a core to free up (steps ten times slower, measured).
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(autouse=True)
def seeded():
    np.random.seed(0)
    torch.manual_seed(0)


def quick(monkeypatch, fraction=1.0, max_epochs=2):
    """Model.fit/evaluate/predict on the first ``fraction`` of their data, at most
    ``max_epochs`` epochs: the limits the benchmark's quick runs use."""
    for name in ("fit", "evaluate", "predict"):
        method = getattr(Model, name)
        monkeypatch.setattr(Model, name, run_with_keras.limited(method, fraction, max_epochs))


def mnist_slice(monkeypatch, mnist, n_train, n_test):
    (x_train, y_train), (x_test, y_test) = mnist
    small = ((x_train[:n_train], y_train[:n_train]), (x_test[:n_test], y_test[:n_test]))
    monkeypatch.setattr(datasets.mnist, "load_data", lambda: small)


def run_example(name):
    return runpy.run_path(str(EXAMPLES / f"{name}.py"))


# -- the import-block swap -------------------------------------------------------------------------
def test_keras_source_swaps_only_the_import_block():
    source = (EXAMPLES / "mnist_convnet.py").read_text()
    converted = run_with_keras.keras_source(source)
    changed = [
        (before, after)
        for before, after in zip(source.splitlines(), converted.splitlines(), strict=True)
        if before != after
    ]
    assert changed == [("import ember as keras", "import keras"),
                       ("from ember import layers", "from keras import layers")]  # fmt: skip


def test_keras_source_restores_the_keras_lines_of_a_train_step():
    converted = run_with_keras.keras_source((EXAMPLES / "custom_train_step.py").read_text())
    assert "        loss.backward()\n" in converted
    assert "            self.optimizer.apply(gradients, trainable_weights)\n" in converted
    assert not any(line.lstrip().startswith("# keras:") for line in converted.splitlines())
    assert "\nimport keras\n" in converted
    compile(converted, "custom_train_step.py", "exec")


def test_keras_source_keeps_data_helpers_and_module_paths():
    block = (
        f"{run_with_keras.IMPORTS_START}\nfrom ember.datasets import mnist\n"
        f"from _data import reviews\nfrom ember.models import Model\n{run_with_keras.IMPORTS_END}\n"
    )
    assert run_with_keras.keras_source(block).splitlines()[1:4] == [
        "from keras.datasets import mnist",
        "from _data import reviews",
        "from keras.models import Model",
    ]


@pytest.mark.parametrize(
    "source, problem",
    [
        ("import ember as keras\n", "exactly one import block"),
        (
            f"{run_with_keras.IMPORTS_START}\n{run_with_keras.IMPORTS_END}\nfrom ember import ops\n",
            "line 3 imports ember outside the import block",
        ),
    ],
)
def test_keras_source_refuses_a_file_it_cannot_swap(source, problem):
    with pytest.raises(ValueError, match=problem):
        run_with_keras.keras_source(source)


def test_every_example_converts_to_keras_code_that_compiles():
    names = sorted(
        p.stem for p in EXAMPLES.glob("*.py") if p.stem not in {"run_with_keras", "_data"}
    )
    assert len(names) >= 10
    for name in names:
        converted = run_with_keras.keras_source((EXAMPLES / f"{name}.py").read_text())
        compile(converted, name, "exec")


def test_limited_slices_every_array_of_a_structure_and_caps_epochs():
    def fit(self, x=None, y=None, epochs=1, validation_data=None):
        return x, y, epochs, validation_data

    x = {"title": np.zeros((40, 3)), "tags": [np.ones((40, 2))]}
    sliced_x, y, epochs, validation = run_with_keras.limited(fit, 0.25, 2)(
        None, x, list(range(40)), epochs=15, validation_data=(np.zeros((8, 1)), np.zeros(8))
    )
    assert sliced_x["title"].shape == (10, 3) and sliced_x["tags"][0].shape == (10, 2)
    assert y == list(range(10)) and epochs == 2
    assert [len(part) for part in validation] == [2, 2]


def test_limited_slices_rows_of_text_and_token_ids_but_not_within_a_row():
    def fit(self, x=None, y=None, validation_data=None):
        return x, validation_data

    texts, ids = ["a b", "c", "d e f", "g"], [[1, 5, 7], [1, 4], [1, 9], [1, 6, 6, 6]]
    x, validation = run_with_keras.limited(fit, 0.5)(None, ids, validation_data=(texts, ids))
    assert x == [[1, 5, 7], [1, 4]]
    assert validation == (["a b", "c"], [[1, 5, 7], [1, 4]])
    pair = run_with_keras.limited(fit, 0.5)(None, [texts, texts])[0]  # two text inputs
    assert pair == [["a b", "c"], ["a b", "c"]]


def test_final_metric_reads_the_score_list_then_the_history():
    class History:
        history = {"loss": [0.5, 0.4], "val_loss": [0.6, 0.3]}

    assert run_with_keras.final_metric({"history": History()}) == ("history val_loss", 0.3)
    assert run_with_keras.final_metric({"test_scores": [0.2, 0.95]}) == ("test_scores[1]", 0.95)
    assert run_with_keras.final_metric({"x": 1}) is None


# -- the examples -----------------------------------------------------------------------------
def test_mnist_convnet(monkeypatch, mnist):
    mnist_slice(monkeypatch, mnist, 1500, 500)
    quick(monkeypatch)
    namespace = run_example("mnist_convnet")
    assert namespace["model"].count_params() == 34_826  # Keras' summary says 34,826
    assert namespace["y_train"].shape == (1500, 10)
    assert namespace["score"][1] > 0.5  # chance is 0.1 (Keras: ~0.7 on this slice)


def test_functional_mnist_mlp(monkeypatch, mnist):
    # The guide reshapes to (60000, 784): all of MNIST loads; fit/evaluate see 1/30 of it.
    monkeypatch.setattr(datasets.mnist, "load_data", lambda: mnist)
    quick(monkeypatch, fraction=1 / 30)
    namespace = run_example("functional_mnist_mlp")
    assert namespace["model"].count_params() == 55_050
    assert sorted(namespace["history"].history) == [
        "accuracy", "loss", "val_accuracy", "val_loss"
    ]  # fmt: skip
    assert namespace["test_scores"][1] > 0.6  # chance is 0.1 (Keras: ~0.8)


def test_functional_autoencoder(monkeypatch, mnist):
    mnist_slice(monkeypatch, mnist, 256, 64)
    quick(monkeypatch, max_epochs=1)
    namespace = run_example("functional_autoencoder")
    counts = [namespace[name].count_params() for name in ("encoder", "decoder", "autoencoder")]
    assert counts == [18_672, 9_569, 28_241]  # the guide's summaries
    x_test = namespace["x_test"]
    reconstructed = namespace["autoencoder"].predict(x_test)
    assert reconstructed.shape == x_test.shape == (64, 28, 28, 1)
    expected = np.mean((reconstructed - x_test) ** 2)
    assert namespace["test_mse"] == pytest.approx(expected, rel=1e-4)


def test_multi_input_multi_output(monkeypatch):
    quick(monkeypatch, fraction=0.05, max_epochs=1)
    namespace = run_example("multi_input_multi_output")
    logs = namespace["history"].history
    # The total loss is the loss_weights' sum of the two outputs' losses.
    expected = np.array(logs["priority_loss"]) + 0.2 * np.array(logs["department_loss"])
    np.testing.assert_allclose(logs["loss"], expected, rtol=1e-4)
    outputs = namespace["model"].predict(
        {"title": namespace["title_data"], "body": namespace["body_data"],
         "tags": namespace["tags_data"]}
    )  # fmt: skip
    assert outputs["priority"].shape == (64, 1) and outputs["department"].shape == (64, 4)


def test_toy_resnet(tmp_path, monkeypatch):
    write_cifar10_binary(
        tmp_path / "cifar-10" / "cifar-10-binary.tar.gz", n_train_per_batch=40, n_test=40
    )
    monkeypatch.setenv("EMBER_DATA", str(tmp_path))
    namespace = run_example("toy_resnet")
    model = namespace["model"]
    assert model.count_params() == 223_242
    assert namespace["y_train"].shape == (200, 10)
    assert len(namespace["history"].history["loss"]) == 1
    predicted = model.predict(namespace["x_test"]).argmax(-1)
    accuracy = np.mean(predicted == namespace["y_test"].argmax(-1))
    assert namespace["test_acc"] == pytest.approx(accuracy)


def test_subclassing_layers_and_models(monkeypatch, mnist):
    mnist_slice(monkeypatch, mnist, 1500, 500)
    quick(monkeypatch)
    namespace = run_example("subclassing_layers_and_models")
    np.testing.assert_array_equal(namespace["my_sum"].total.detach().numpy(), [4.0, 4.0])
    assert len(namespace["mlp"].trainable_weights) == 6
    assert namespace["test_acc"] > 0.5  # chance is 0.1


def test_custom_train_step(monkeypatch):
    quick(monkeypatch, fraction=0.5)
    namespace = run_example("custom_train_step")
    losses = namespace["history"].history["loss"]
    assert losses[-1] < losses[0]
    model, x, y = namespace["model"], namespace["x"], namespace["y"]
    predictions = model.predict(x)  # the first half of x, as evaluate saw it
    errors = predictions - y[: len(predictions)]
    loss, mae = namespace["scores"]
    assert loss == pytest.approx(np.mean(errors**2), rel=1e-4)
    assert mae == pytest.approx(np.mean(np.abs(errors)), rel=1e-4)


def test_transfer_learning_mnist(monkeypatch, mnist):
    mnist_slice(monkeypatch, mnist, 1000, 400)
    quick(monkeypatch, max_epochs=1)
    weights = []  # each fit's model weights before and after, in Keras' order
    fit = Model.fit

    def recording_fit(self, *args, **kwargs):
        before = self.get_weights()
        history = fit(self, *args, **kwargs)
        weights.append((before, self.get_weights()))
        return history

    monkeypatch.setattr(Model, "fit", recording_fit)
    namespace = run_example("transfer_learning_mnist")
    assert namespace["first_acc"] > 0.5  # 5 classes: chance is 0.2
    (_, _), (frozen_before, frozen_after), (tuned_before, tuned_after) = weights
    base = len(namespace["base_model"].get_weights())  # two convolutions: 4 arrays
    assert base == 4
    for before, after in zip(frozen_before[:base], frozen_after[:base]):
        np.testing.assert_array_equal(before, after)  # frozen: the features do not move
    assert not np.array_equal(frozen_before[base], frozen_after[base])  # the new head trains
    assert not np.array_equal(tuned_before[0], tuned_after[0])  # unfrozen: fine-tuned


def test_denoising_autoencoder(monkeypatch, mnist):
    mnist_slice(monkeypatch, mnist, 128, 32)
    quick(monkeypatch, max_epochs=1)
    namespace = run_example("denoising_autoencoder")
    assert namespace["autoencoder"].count_params() == 28_353
    predictions, clean = namespace["predictions"], namespace["test_data"]
    assert predictions.shape == (32, 28, 28, 1)
    # The last validation loss is the binary cross-entropy of these very predictions.
    p = np.clip(predictions.astype(np.float64), 1e-7, 1 - 1e-7)
    expected = -np.mean(clean * np.log(p) + (1 - clean) * np.log(1 - p))
    assert namespace["denoise_history"].history["val_loss"][-1] == pytest.approx(expected, rel=1e-3)


def test_save_and_load(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    quick(monkeypatch)
    namespace = run_example("save_and_load")
    assert zipfile.is_zipfile(tmp_path / "my_model.keras")
    assert h5py.is_hdf5(tmp_path / "pretrained.weights.h5")
    saved, loaded = namespace["functional_model"], namespace["pretrained_model"]
    for a, b in zip(saved.get_weights(), loaded.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)  # through pretrained.weights.h5
    assert namespace["model"].count_params() == 784 * 64 + 64 + 64 * 64 + 64 + 64 * 5 + 5
