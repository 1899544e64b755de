"""Keras 3's files in ember, checked against Keras 3 itself (torch backend): ``.keras`` archives
and ``.weights.h5`` files, from Keras to ember and back, and their errors."""

import os

os.environ.setdefault("KERAS_BACKEND", "torch")

import json
import zipfile

import keras
import numpy as np
import pytest
import torch

import ember
from ember import layers
from ember.errors import ConfigError, SaveError, WeightsMismatchError
from ember.models import load_model
from ember.models.keras_files import save_keras

# Keras' torch backend calls np.array(tensor) the NumPy 1 way.
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")
RNG = np.random.default_rng(0)
IMAGES = RNG.random((16, 8, 8, 1), dtype=np.float32)
LABELS = RNG.integers(0, 3, 16)
FEATURES = [RNG.random((16, 6), dtype=np.float32), RNG.random((16, 3), dtype=np.float32)]
TARGETS = RNG.random((16, 1), dtype=np.float32)


def keras_cnn() -> keras.Model:
    keras.utils.set_random_seed(0)
    L = keras.layers
    model = keras.Sequential(
        [
            keras.Input((8, 8, 1)),
            L.Conv2D(4, 3, activation="relu"),
            L.BatchNormalization(),
            L.MaxPooling2D(),
            L.Flatten(),
            L.Dropout(0.25),
            L.Dense(8, activation="relu"),
            L.Dense(3, activation="softmax"),
        ]
    )
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(IMAGES, LABELS, batch_size=8, epochs=1, verbose=0)
    return model


def ember_cnn() -> ember.Sequential:
    return ember.Sequential(
        [
            layers.Conv2D(4, 3, activation="relu", input_shape=(8, 8, 1)),
            layers.BatchNormalization(),
            layers.MaxPooling2D(),
            layers.Flatten(),
            layers.Dropout(0.25),
            layers.Dense(8, activation="relu"),
            layers.Dense(3, activation="softmax"),
        ]
    )


def keras_two_inputs() -> keras.Model:
    keras.utils.set_random_seed(0)
    L = keras.layers
    image, meta = keras.Input((6,), name="image"), keras.Input((3,), name="meta")
    x = L.Concatenate()([L.Dense(5, activation="relu")(image), meta])
    x = L.Dense(4, activation="tanh", name="frozen", trainable=False)(x)
    model = keras.Model([image, meta], L.Dense(1)(x))
    model.compile("adam", "mse")
    model.fit(FEATURES, TARGETS, batch_size=8, epochs=1, verbose=0)
    return model


def predictions(model, x) -> np.ndarray:
    if isinstance(model, keras.Model):
        return np.asarray(model.predict(x, verbose=0))
    model.eval()
    return np.asarray(model.predict(x))


def test_keras_cnn_loads_with_keras_predictions_and_trains_on(tmp_path):
    trained = keras_cnn()
    trained.save(tmp_path / "cnn.keras")
    model = load_model(tmp_path / "cnn.keras")
    np.testing.assert_allclose(predictions(model, IMAGES), predictions(trained, IMAGES), atol=1e-5)
    # compiled as in Keras (adam, the loss, the metric): training continues in ember
    kernel = model.layers[0].weight.detach().clone()
    history = model.fit(IMAGES, LABELS, batch_size=8, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0]) and "accuracy" in history.history
    assert not torch.equal(model.layers[0].weight, kernel)


def test_keras_functional_two_inputs_loads_frozen_layer_included(tmp_path):
    trained = keras_two_inputs()
    trained.save(tmp_path / "two.keras")
    model = load_model(tmp_path / "two.keras")
    assert type(model).__name__ == "Functional"
    np.testing.assert_allclose(
        predictions(model, FEATURES), predictions(trained, FEATURES), atol=1e-5
    )
    frozen = model.get_layer("frozen")
    before = frozen.weight.detach().clone()
    model.fit(FEATURES, TARGETS, batch_size=8, epochs=1, verbose=0)
    assert frozen.trainable is False and torch.equal(frozen.weight, before)


def test_ember_models_saved_as_keras_load_in_keras(tmp_path):
    torch.manual_seed(0)
    cnn = ember_cnn()
    cnn.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    cnn.fit(IMAGES, LABELS, batch_size=8, epochs=1, verbose=0)  # moving BN statistics
    cnn.save(tmp_path / "cnn.keras")
    assert zipfile.is_zipfile(tmp_path / "cnn.keras")
    with pytest.warns(UserWarning, match="optimizer"):  # Keras: the optimizer starts afresh
        in_keras = keras.models.load_model(tmp_path / "cnn.keras")
    np.testing.assert_allclose(predictions(in_keras, IMAGES), predictions(cnn, IMAGES), atol=1e-5)

    # a graph with a shared layer and a nested model: Keras numbers their calls
    image, meta = ember.Input(shape=(6,), name="image"), ember.Input(shape=(6,), name="meta")
    shared = layers.Dense(3, name="shared")
    shared.trainable = False
    head_input = ember.Input(shape=(3,))
    head = ember.Model(head_input, layers.Dense(2)(head_input), name="head")
    merged = layers.Concatenate()([head(shared(image)), head(shared(meta)), layers.Dense(2)(meta)])
    graph = ember.Model([image, meta], layers.Dense(1)(merged))
    save_keras(graph, tmp_path / "graph.keras")
    x = [FEATURES[0], RNG.random((16, 6), dtype=np.float32)]
    in_keras = keras.models.load_model(tmp_path / "graph.keras")
    np.testing.assert_allclose(predictions(in_keras, x), predictions(graph, x), atol=1e-5)
    assert in_keras.get_layer("shared").trainable is False
    again = load_model(tmp_path / "graph.keras")
    np.testing.assert_array_equal(predictions(again, x), predictions(graph, x))


def test_weights_h5_files_move_both_ways(tmp_path):
    trained = keras_cnn()
    trained.save_weights(tmp_path / "keras.weights.h5")
    model = ember_cnn()
    model.load_weights(tmp_path / "keras.weights.h5")
    np.testing.assert_allclose(predictions(model, IMAGES), predictions(trained, IMAGES), atol=1e-5)

    torch.manual_seed(1)
    fresh = ember_cnn()
    fresh.save_weights(tmp_path / "ember.weights.h5")
    with pytest.warns(UserWarning, match="optimizer"):  # Keras: its optimizer's state is kept
        trained.load_weights(tmp_path / "ember.weights.h5")
    np.testing.assert_allclose(predictions(trained, IMAGES), predictions(fresh, IMAGES), atol=1e-5)


def test_missing_file_is_an_error(tmp_path):
    with pytest.raises(SaveError, match="no .keras file at"):
        load_model(tmp_path / "absent.keras")


def test_file_that_is_not_a_zip_is_an_error(tmp_path):
    (tmp_path / "text.keras").write_text("not an archive")
    with pytest.raises(SaveError, match="not a .keras archive"):
        load_model(tmp_path / "text.keras")


def rewrite_config(path, change) -> None:
    with zipfile.ZipFile(path) as archive:
        files = {name: archive.read(name) for name in archive.namelist()}
    config = json.loads(files["config.json"])
    change(config["config"]["layers"][1])
    files["config.json"] = json.dumps(config).encode()
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)


def test_layer_ember_lacks_is_an_error_naming_it(tmp_path):
    path = tmp_path / "custom.keras"
    ember.Sequential([layers.Dense(2, input_shape=(3,))]).save(path)
    rewrite_config(path, lambda entry: entry.update(class_name="Antialias", module="my.layers"))
    with pytest.raises(ConfigError, match="class Antialias .* ember has no Antialias layer"):
        load_model(path)
    rewrite_config(path, lambda entry: entry.update(class_name="Dense", module="keras.layers"))
    rewrite_config(path, lambda entry: entry["config"].update(lora_rank=4))
    with pytest.raises(ConfigError, match="sets lora_rank=4, and ember's Dense has no lora_rank"):
        load_model(path)


def test_lambda_layer_is_refused_not_run(tmp_path):
    model = keras.Sequential([keras.Input((3,)), keras.layers.Lambda(lambda x: x * 2)])
    model.save(tmp_path / "lambda.keras")
    with pytest.raises(ConfigError, match="Lambda layer .*compiled bytecode"):
        load_model(tmp_path / "lambda.keras")


def test_weights_of_the_wrong_shape_change_nothing(tmp_path):
    ember.Sequential([layers.Dense(3, input_shape=(5,), name="small")]).save_weights(
        tmp_path / "small.weights.h5"
    )
    model = ember.Sequential([layers.Dense(4, input_shape=(5,), name="wide")])
    before = [w.detach().clone() for w in model.parameters()]
    with pytest.raises(
        WeightsMismatchError, match=r"layer wide weight kernel has shape \(5, 4\).*\(5, 3\)"
    ):
        model.load_weights(tmp_path / "small.weights.h5")
    assert all(torch.equal(a, b) for a, b in zip(model.parameters(), before))


def test_compile_settings_ember_lacks_load_uncompiled_with_a_warning(tmp_path):
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    model.compile(keras.optimizers.Nadam(), "mse")
    model.save(tmp_path / "nadam.keras")
    with pytest.warns(UserWarning, match="loads uncompiled, because its optimizer is Nadam"):
        loaded = load_model(tmp_path / "nadam.keras")
    assert loaded.trainer is None


def test_an_adapted_normalization_moves_both_ways(tmp_path):
    data = np.random.default_rng(0).random((50, 3)).astype("float32") * 5
    normalization = keras.layers.Normalization()
    normalization.adapt(data)
    keras_model = keras.Sequential([keras.Input(shape=(3,)), normalization, keras.layers.Dense(2)])
    keras_model.save(tmp_path / "keras.keras")
    model = load_model(tmp_path / "keras.keras")
    expected = keras_model.predict(data[:4], verbose=0)
    np.testing.assert_allclose(model.predict(data[:4]), expected, atol=1e-6)
    model.save(tmp_path / "ember.keras")
    again = keras.models.load_model(tmp_path / "ember.keras")
    np.testing.assert_allclose(again.predict(data[:4], verbose=0), expected, atol=1e-6)


def test_a_functional_model_saves_to_a_keras_file(tmp_path):
    inputs = ember.Input(shape=(4,))
    model = ember.Model(inputs, layers.Dense(2)(layers.Dense(3, activation="relu")(inputs)))
    model.save(tmp_path / "functional.keras")
    assert zipfile.is_zipfile(tmp_path / "functional.keras")
    x = np.random.default_rng(1).random((5, 4)).astype("float32")
    np.testing.assert_allclose(
        keras.models.load_model(tmp_path / "functional.keras").predict(x, verbose=0),
        model.predict(x),
        atol=1e-6,
    )
