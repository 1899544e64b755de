"""Model/Trainer: fit options, data kinds, histories and repeatability."""

import re

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

import ember
from ember import layers, models


def blobs(n=200, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    x = rng.normal(size=(n, 4)) + 3 * np.eye(3, 4)[y]
    return x.astype("float32"), y


def small_model():
    return models.Sequential(
        [
            layers.Dense(16, activation="relu", input_shape=(4,)),
            layers.Dense(3, activation="softmax"),
        ]
    )


def compiled(**kwargs):
    model = small_model()
    model.compile(
        optimizer="adam",
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
        device="cpu",
        **kwargs,
    )
    return model


def test_fit_learns_and_history_has_keras_keys():
    ember.set_seed(0)
    x, y = blobs()
    model = compiled()
    history = model.fit(x, y, epochs=20, batch_size=16, verbose=0, validation_data=(x, y))
    assert sorted(history.history) == ["accuracy", "loss", "val_accuracy", "val_loss"]
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert history.history["val_accuracy"][-1] > 0.9
    assert model.history is history


def test_evaluate_returns_loss_and_metrics_in_keras_order():
    x, y = blobs()
    model = compiled()
    loss, accuracy = model.evaluate(x, y, verbose=0)
    logs = model.evaluate(x, y, verbose=0, return_dict=True)
    assert logs == {"loss": loss, "accuracy": accuracy}
    probabilities = model.predict(x)
    assert accuracy == pytest.approx(float((probabilities.argmax(1) == y).mean()))


def test_every_data_kind_gives_the_same_evaluation():
    x, y = blobs(64)
    model = compiled()
    reference = model.evaluate(x, y, verbose=0, batch_size=16)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    dataset = TensorDataset(xt, yt)
    for data in [
        (xt, yt),
        dataset,
        DataLoader(dataset, batch_size=16),
        [(xt[:32], yt[:32]), (xt[32:], yt[32:])],
    ]:
        got = model.evaluate(data, verbose=0, batch_size=16)
        assert got == pytest.approx(reference, rel=1e-5)


def test_generator_needs_steps_per_epoch():
    x, y = blobs(64)
    model = compiled()

    def batches():
        while True:
            yield torch.from_numpy(x[:16]), torch.from_numpy(y[:16])

    with pytest.raises(ember.ConfigError, match="steps_per_epoch"):
        model.fit(batches(), epochs=2, verbose=0)
    history = model.fit(batches(), epochs=2, steps_per_epoch=3, verbose=0)
    assert len(history.history["loss"]) == 2


def test_validation_split_holds_out_the_last_fraction():
    x, y = blobs(100)
    model = compiled()
    history = model.fit(x, y, epochs=1, validation_split=0.2, verbose=0, shuffle=False)
    expected = model.evaluate(x[80:], y[80:], verbose=0, return_dict=True)
    assert history.history["val_loss"][0] == pytest.approx(expected["loss"], rel=1e-5)


def test_class_weight_multiplies_each_sample_loss():
    x, y = blobs(60)
    model = compiled()
    model.evaluate(x, y, verbose=0)
    weights = {0: 1.0, 1: 2.0, 2: 0.5}
    model.task.class_weight = weights
    probabilities = torch.from_numpy(model.predict(x))
    per_sample = torch.nn.functional.nll_loss(
        probabilities.log(), torch.from_numpy(y), reduction="none"
    )
    w = torch.tensor([weights[int(c)] for c in y])
    expected = float((per_sample * w).sum() / len(y))
    assert model.evaluate(x, y, verbose=0)[0] == pytest.approx(expected, rel=1e-4)
    model.fit(x, y, epochs=1, class_weight=weights, verbose=0)


def test_initial_epoch_resumes_the_epoch_count():
    x, y = blobs(64)
    model = compiled()
    history = model.fit(x, y, epochs=5, initial_epoch=3, verbose=0)
    assert history.epoch == [3, 4]


def test_seeded_runs_repeat_exactly_on_cpu():
    x, y = blobs()

    def run():
        ember.set_seed(123)
        model = models.Sequential(
            [
                layers.Dense(16, activation="relu", input_shape=(4,)),
                layers.Dropout(0.3),
                layers.Dense(3, activation="softmax"),
            ]
        )
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", device="cpu")
        model.fit(x, y, epochs=3, batch_size=8, verbose=0)
        return model.state_dict()

    first, second = run(), run()
    assert all(torch.equal(first[k], second[k]) for k in first)


def test_wrapping_any_module_and_trainer_give_the_same_result():
    x, y = blobs(64)
    ember.set_seed(1)
    net = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3))
    model = ember.Model(net)
    model.compile(
        optimizer="sgd",
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
        from_logits=True,
        device="cpu",
    )
    model.fit(x, y, epochs=2, verbose=0, shuffle=False)
    ember.set_seed(1)
    net2 = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3))
    task = ember.Supervised(net2, "sparse_categorical_crossentropy", ["accuracy"], from_logits=True)
    trainer = ember.Trainer(task, "sgd", epochs=2, device="cpu")
    trainer.fit((x, y), shuffle=False, verbose=0)
    for a, b in zip(net.parameters(), net2.parameters()):
        torch.testing.assert_close(a, b)


def test_engine_matches_a_hand_written_loop():
    x, y = blobs(64)
    torch.manual_seed(0)
    net = torch.nn.Linear(4, 3)
    reference = torch.nn.Linear(4, 3)
    reference.load_state_dict(net.state_dict())
    task = ember.Supervised(net, "sparse_categorical_crossentropy", from_logits=True)
    ember.Trainer(task, ember.optimizers.SGD(learning_rate=0.1), epochs=1, device="cpu").fit(
        (x, y), batch_size=16, shuffle=False, verbose=0
    )
    optimizer = torch.optim.SGD(reference.parameters(), lr=0.1)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    for i in range(0, 64, 16):
        loss = torch.nn.functional.cross_entropy(reference(xt[i : i + 16]), yt[i : i + 16])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    torch.testing.assert_close(net.weight, reference.weight)


def test_progress_output_looks_like_keras(capsys):
    x, y = blobs(64)
    model = compiled()
    model.fit(x, y, epochs=2, batch_size=32, validation_data=(x[:8], y[:8]))
    model.evaluate(x, y, verbose=2)
    out = capsys.readouterr().out
    epoch_lines = [line for line in out.splitlines() if "━" in line]
    # The training step count (not the validation one) and the validation logs, uncropped.
    assert len(epoch_lines) == 2
    assert all(line.startswith("2/2 ") and "val_accuracy: " in line for line in epoch_lines)
    assert all(re.search(r"val_loss: \d\.\d{4}$", line) for line in epoch_lines)
    assert "Epoch 1/2" in out and "Epoch 2/2" in out
    assert "2/2" in out and "accuracy:" in out and "loss:" in out and "/step" in out
    last = out.strip().splitlines()[-1]
    assert last.startswith("2/2 - ") and "accuracy: " in last


def test_regularization_is_added_to_the_loss():
    model = models.Sequential(
        [layers.Dense(2, kernel_regularizer=ember.layers.regularizers.L2(0.1), input_shape=(3,))]
    )
    model.compile(loss="mse", device="cpu")
    x, y = np.ones((4, 3), "float32"), np.zeros((4, 2), "float32")
    loss = model.evaluate(x, y, verbose=0)
    outputs = model.predict(x)
    expected = float((outputs**2).mean() + 0.1 * (model.layers[0].weight.detach() ** 2).sum())
    assert loss == pytest.approx(expected, rel=1e-5)
