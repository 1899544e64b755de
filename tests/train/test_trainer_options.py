"""Trainer options: precision, devices, callbacks seeing the engine, early stop of a fit."""

import numpy as np
import pytest
import torch

import ember
from ember import layers, models


def data(n=64):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, 6)).astype("float32")
    return x, (x[:, 0] > 0).astype("int64")


def test_bf16_autocast_trains_on_cpu_and_logs_float_losses():
    ember.set_seed(0)
    x, y = data()
    model = models.Sequential(
        [
            layers.Dense(8, activation="relu", input_shape=(6,)),
            layers.Dense(2, activation="softmax"),
        ]
    )
    model.compile(
        optimizer="adam",
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
        precision="bf16",
        device="cpu",
    )
    history = model.fit(x, y, epochs=5, verbose=0)
    assert all(np.isfinite(history.history["loss"]))
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert model.layers[0].weight.dtype == torch.float32  # master weights stay float32


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"precision": "8"}, "unknown precision '8'"),
        ({"precision": "16-mixed", "device": "cpu"}, "needs a CUDA device"),
        ({"device": "tpu9"}, "unknown device"),
    ],
)
def test_bad_precision_and_device_are_config_errors(kwargs, match):
    task = ember.Supervised(
        torch.nn.Linear(6, 2), "sparse_categorical_crossentropy", from_logits=True
    )
    with pytest.raises(ember.ConfigError, match=match):
        ember.Trainer(task, **kwargs)


def test_cuda_request_without_cuda_says_how_to_fix():
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    task = ember.Supervised(torch.nn.Linear(6, 2), "mse")
    with pytest.raises(ember.ConfigError, match="device='cpu'"):
        ember.Trainer(task, device="cuda")


def test_a_callback_can_stop_training_after_the_current_epoch():
    x, y = data()
    seen = []

    class StopAtTwo(ember.Callback):
        def on_epoch_end(self, epoch, logs=None):
            seen.append(epoch)
            if epoch == 1:
                self.trainer.stop_training = True

    task = ember.Supervised(
        torch.nn.Linear(6, 2), "sparse_categorical_crossentropy", from_logits=True
    )
    history = ember.Trainer(task, "sgd", epochs=10, callbacks=[StopAtTwo()], device="cpu").fit(
        (x, y), verbose=0
    )
    assert seen == [0, 1] and history.epoch == [0, 1]


def test_batch_hooks_get_loss_tensors_without_a_host_read():
    x, y = data(40)
    losses = []
    callback = ember.callbacks.LambdaCallback(
        on_batch_end=lambda batch, logs: losses.append(logs["loss"])
    )
    task = ember.Supervised(
        torch.nn.Linear(6, 2), "sparse_categorical_crossentropy", from_logits=True
    )
    ember.Trainer(task, "sgd", epochs=1, callbacks=[callback], device="cpu").fit(
        (x, y), batch_size=16, verbose=0
    )
    assert len(losses) == 3 and all(isinstance(v, torch.Tensor) for v in losses)


def test_epoch_loss_is_the_sample_weighted_mean_of_batch_losses():
    x, y = data(40)  # batches of 16, 16, 8
    net = torch.nn.Linear(6, 2)
    task = ember.Supervised(net, "sparse_categorical_crossentropy", from_logits=True)
    trainer = ember.Trainer(task, "sgd", epochs=1, device="cpu")
    logs = trainer.evaluate((x, y), batch_size=16, verbose=0)
    with torch.no_grad():
        expected = torch.nn.functional.cross_entropy(net(torch.from_numpy(x)), torch.from_numpy(y))
    assert logs["loss"] == pytest.approx(float(expected), rel=1e-6)


def test_augmentation_layers_train_inside_a_model_and_are_identity_in_predict():
    ember.set_seed(0)
    model = models.Sequential(
        [
            ember.data.RandomFlip("horizontal"),
            layers.Flatten(),
            layers.Dense(2, activation="softmax"),
        ]
    )
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", device="cpu")
    x = np.random.rand(16, 8, 8, 1).astype("float32")
    model.fit(x, np.random.randint(0, 2, 16), epochs=1, verbose=0)
    flipped = x[:, :, ::-1].copy()
    # Eval mode: no flipping, so a left-right asymmetric model gives different outputs.
    assert not np.allclose(model.predict(x), model.predict(flipped))


def test_jit_compile_gives_the_eager_results():
    x, y = data(64)
    ember.set_seed(0)
    eager = models.Sequential(
        [
            layers.Dense(8, activation="relu", input_shape=(6,)),
            layers.Dense(2, activation="softmax"),
        ]
    )
    compiled = models.Sequential(
        [
            layers.Dense(8, activation="relu", input_shape=(6,)),
            layers.Dense(2, activation="softmax"),
        ]
    )
    compiled.load_state_dict(eager.state_dict())
    for model, jit in ((eager, False), (compiled, True)):
        model.compile(
            optimizer="sgd", loss="sparse_categorical_crossentropy", jit_compile=jit, device="cpu"
        )
        model.fit(x, y, epochs=1, batch_size=16, shuffle=False, verbose=0)
    for a, b in zip(eager.parameters(), compiled.parameters()):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)
