"""Sequential: Keras behaviour (names, summary, fused softmax loss, predict) checked against torch."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import ember
from ember import layers, models


def seed_mlp() -> models.Sequential:
    return models.Sequential(
        [
            layers.Flatten(input_shape=(28, 28)),
            layers.Dense(128, activation="relu"),
            layers.Dropout(0.2),
            layers.Dense(10, activation="softmax"),
        ]
    )


def test_seed_mlp_has_keras_parameter_count_and_names():
    model = seed_mlp()
    assert model.count_params() == 784 * 128 + 128 + 128 * 10 + 10  # 101,770 as Keras prints
    assert [layer.name for layer in model.layers] == ["flatten", "dense", "dropout", "dense_1"]


def test_summary_prints_output_shapes_and_counts():
    text = seed_mlp().summary(print_fn=lambda s: None)
    assert "(None, 784)" in text and "(None, 128)" in text and "(None, 10)" in text
    assert "dense_1 (Dense)" in text
    assert "Total params: 101,770 (397.54 KB)" in text


def test_summary_of_cnn_counts_match_keras():
    model = models.Sequential(
        [
            layers.Conv2D(32, (3, 3), activation="relu", input_shape=(32, 32, 3)),
            layers.MaxPooling2D((2, 2)),
            layers.Conv2D(64, (3, 3), activation="relu"),
            layers.MaxPooling2D((2, 2)),
            layers.Conv2D(64, (3, 3), activation="relu"),
            layers.Flatten(),
            layers.Dense(64, activation="relu"),
            layers.Dense(10, activation="softmax"),
        ]
    )
    text = model.summary(print_fn=lambda s: None)
    # The TensorFlow CNN tutorial's summary: 122,570 parameters, (None, 4, 4, 64) before Flatten.
    assert model.count_params() == 122_570
    names = [layer.name for layer in model.layers]
    assert names[:4] == ["conv2d", "max_pooling2d", "conv2d_1", "max_pooling2d_1"]
    assert "(None, 30, 30, 32)" in text and "(None, 4, 4, 64)" in text and "(None, 1024)" in text


def test_softmax_cross_entropy_is_computed_from_logits():
    torch.manual_seed(0)
    model = seed_mlp()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", device="cpu")
    x, y = torch.rand(16, 28, 28), torch.randint(0, 10, (16,))
    model.eval()
    logits = model.logits(x)
    expected = F.cross_entropy(logits, y)
    loss = model.evaluate(x, y, verbose=0)
    assert loss == pytest.approx(float(expected.detach()), rel=1e-5)
    probabilities = model.predict(x)
    torch.testing.assert_close(probabilities, torch.softmax(logits, -1))
    # Saturated logits: probabilities underflow to 0, the fused loss stays finite.
    with torch.no_grad():
        model.layers[-1].weight.mul_(1e4)
    assert np.isfinite(model.evaluate(x, y, verbose=0))


def test_predict_returns_numpy_for_numpy_and_tensor_for_tensor():
    model = models.Sequential([layers.Dense(3, input_shape=(4,))])
    model.compile(loss="mse", device="cpu")
    assert isinstance(model.predict(np.zeros((5, 4))), np.ndarray)
    assert isinstance(model.predict(torch.zeros(5, 4)), torch.Tensor)
    assert model.predict(np.zeros((5, 4))).shape == (5, 3)


def test_add_builds_lazily_like_keras():
    model = models.Sequential()
    model.add(layers.Dense(8, activation="relu"))
    model.add(layers.Dense(1))
    model.compile(optimizer="sgd", loss="mse", device="cpu")
    model.fit(np.random.rand(20, 5), np.random.rand(20, 1), epochs=1, verbose=0)
    assert model.count_params() == 5 * 8 + 8 + 8 + 1


def test_sequential_accepts_plain_torch_modules():
    model = models.Sequential([torch.nn.Flatten(), torch.nn.Linear(4, 2), torch.nn.Softmax(-1)])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", device="cpu")
    assert model.final_activation() == "softmax"
    history = model.fit(np.random.rand(32, 2, 2), np.random.randint(0, 2, 32), epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2


def test_channels_first_conv_model_trains():
    model = models.Sequential(
        [
            layers.Conv2D(
                4, 3, data_format="channels_first", activation="relu", input_shape=(1, 8, 8)
            ),
            layers.GlobalAveragePooling2D(data_format="channels_first"),
            layers.Dense(2, activation="softmax"),
        ]
    )
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", device="cpu")
    model.fit(np.random.rand(16, 1, 8, 8), np.random.randint(0, 2, 16), epochs=1, verbose=0)
    assert model.predict(np.random.rand(3, 1, 8, 8)).shape == (3, 2)


def test_summary_of_a_wrapped_module_needs_or_learns_its_input_shape():
    net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(12, 5))
    model = ember.Model(net)
    with pytest.raises(ember.ConfigError, match=r"summary\(input_shape="):
        model.summary(print_fn=lambda s: None)
    assert "(None, 5)" in model.summary(input_shape=(3, 4), print_fn=lambda s: None)
    model.compile(loss="mse", device="cpu")
    model.fit(np.zeros((4, 3, 4)), np.zeros((4, 5)), verbose=0)
    assert "Total params: 65" in model.summary(print_fn=lambda s: None)


def test_get_layer_and_keras_get_set_weights():
    model = seed_mlp()
    assert model.get_layer("dense_1") is model.layers[3]
    assert model.get_layer(index=0) is model.layers[0]
    with pytest.raises(ember.ConfigError, match="flatten, dense, dropout, dense_1"):
        model.get_layer("dense_2")
    weights = model.get_weights()
    assert [w.shape for w in weights] == [(784, 128), (128,), (128, 10), (10,)]  # Keras' layout
    other = seed_mlp()
    other.set_weights(weights)
    x = np.random.rand(3, 28, 28).astype("float32")
    np.testing.assert_array_equal(model.predict(x), other.predict(x))
    with pytest.raises(
        ember.WeightsMismatchError, match=r"dense_1 .*shape \(10,\).*received shape \(11,\)"
    ):
        other.set_weights(weights[:3] + [np.zeros(11)])
    with pytest.raises(ember.WeightsMismatchError, match="received 2 arrays"):
        other.set_weights(weights[:2])


def test_build_without_a_shape_uses_the_declared_input_as_keras_does():
    model = models.Sequential([layers.Input(shape=(4,)), layers.Dense(3)])
    model.build()
    assert model.count_params() == 4 * 3 + 3
    declared = models.Sequential([layers.Dense(2, input_shape=(5,))])
    declared.build()
    assert declared.count_params() == 5 * 2 + 2
    with pytest.raises(ember.errors.ShapeError, match=r"declares none\. Fix: model\.build"):
        models.Sequential([layers.Dense(3)]).build()
