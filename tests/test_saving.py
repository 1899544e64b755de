"""Saving: safetensors + JSON, atomic writes, bitwise round trips, clear mismatch errors."""

import json
import os

import numpy as np
import pytest
import torch

import ember
from ember import layers, models


def trained_cnn():
    ember.set_seed(0)
    model = models.Sequential(
        [
            layers.Conv2D(
                4,
                3,
                activation="relu",
                input_shape=(8, 8, 1),
                kernel_regularizer="l2",
                kernel_initializer="he_normal",
            ),
            layers.BatchNormalization(),
            layers.MaxPooling2D(),
            layers.Flatten(),
            layers.Dropout(0.1),
            layers.Dense(3, activation="softmax"),
        ]
    )
    model.compile(
        optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"], device="cpu"
    )
    model.fit(np.random.rand(32, 8, 8, 1), np.random.randint(0, 3, 32), epochs=1, verbose=0)
    return model


def test_save_and_load_model_round_trip_bitwise(tmp_path):
    model = trained_cnn()
    model.save(tmp_path / "cnn")
    assert sorted(p.name for p in (tmp_path / "cnn").iterdir()) == [
        "config.json",
        "model.safetensors",
    ]
    config = json.loads((tmp_path / "cnn" / "config.json").read_text())
    assert [entry["class_name"] for entry in config["layers"]][:2] == [
        "Conv2D",
        "BatchNormalization",
    ]
    loaded = models.load_model(tmp_path / "cnn")
    original, restored = model.state_dict(), loaded.state_dict()
    assert original.keys() == restored.keys()
    assert all(torch.equal(original[k], restored[k]) for k in original)
    x = np.random.rand(5, 8, 8, 1).astype("float32")
    np.testing.assert_array_equal(model.predict(x), loaded.predict(x))
    # Compiled again from the saved names: evaluate works straight away.
    assert len(loaded.evaluate(x, np.zeros(5, dtype=int), verbose=0)) == 2


def test_save_weights_load_weights_for_any_module(tmp_path):
    net = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4))
    net(torch.randn(8, 3))
    ember.save_weights(net, tmp_path / "w.safetensors")
    other = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4))
    ember.load_weights(other, tmp_path / "w.safetensors")
    for key, value in net.state_dict().items():
        assert torch.equal(value, other.state_dict()[key])


def test_loading_weights_of_another_architecture_names_keys_and_shapes(tmp_path):
    ember.save_weights(torch.nn.Linear(3, 4), tmp_path / "w.safetensors")
    target = torch.nn.Linear(3, 5)
    before = target.weight.clone()
    with pytest.raises(ember.WeightsMismatchError) as error:
        ember.load_weights(target, tmp_path / "w.safetensors")
    assert "weight: model (5, 3) vs file (4, 3)" in str(error.value)
    assert torch.equal(target.weight, before)  # untouched
    with pytest.raises(
        ember.WeightsMismatchError, match="missing from the file: 0.weight, 0.bias, 2.weight"
    ):
        ember.load_weights(
            torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 1)),
            tmp_path / "w.safetensors",
        )


def test_corrupt_weights_file_is_a_clear_error_not_unpickling(tmp_path):
    path = tmp_path / "w.safetensors"
    path.write_bytes(b"\x80\x04 not safetensors")
    with pytest.raises(ember.WeightsMismatchError, match="not a readable safetensors file"):
        ember.load_weights(torch.nn.Linear(3, 4), path)


def test_failed_save_leaves_previous_files_intact(tmp_path):
    model = trained_cnn()
    model.save(tmp_path / "cnn")
    before = (tmp_path / "cnn" / "model.safetensors").read_bytes()
    model.layers.append(torch.nn.ReLU())  # a plain module: its config cannot be recorded
    with pytest.raises(ember.SaveError, match="plain torch module"):
        model.save(tmp_path / "cnn")
    assert (tmp_path / "cnn" / "model.safetensors").read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cnn"]  # no temporary leftovers


def test_save_refuses_to_overwrite_a_folder_that_is_not_a_model(tmp_path):
    (tmp_path / "precious").mkdir()
    (tmp_path / "precious" / "notes.txt").write_text("keep me")
    with pytest.raises(ember.SaveError, match="not an ember model folder"):
        trained_cnn().save(tmp_path / "precious")
    assert (tmp_path / "precious" / "notes.txt").read_text() == "keep me"


def test_saving_an_unbuilt_model_explains_how_to_build_it(tmp_path):
    model = models.Sequential([layers.Dense(3)])
    with pytest.raises(ember.SaveError, match="input_shape"):
        model.save_weights(tmp_path / "w.safetensors")
    assert not (tmp_path / "w.safetensors").exists()


def test_saved_files_get_the_usual_permissions_not_private_temp_ones(tmp_path):
    ember.save_weights(torch.nn.Linear(2, 2), tmp_path / "w.safetensors")
    umask = os.umask(0)
    os.umask(umask)
    assert (tmp_path / "w.safetensors").stat().st_mode & 0o777 == 0o666 & ~umask
