"""TablePredictor and tabular.fit: predictions on raw rows, save/load round trips, atomic saves,
the docs page's example, and bad inputs."""

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from ember import tabular
from ember.errors import ConfigError, DataError, SaveError, UnknownNameError
from ember.tabular import FTTransformer, TablePredictor, TablePreprocessor, TabularMLP

ROOT = Path(__file__).parents[2]


def rows(n=64, seed=0):
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "x": rng.normal(size=n),
            "group": rng.choice(["a", "b", "c"], n),
            "size": np.where(rng.random(n) < 0.2, np.nan, rng.normal(size=n)),
        }
    )
    frame["label"] = np.where(frame["x"] * np.where(frame["group"] == "b", -1, 1) > 0, "up", "down")
    frame["price"] = 100 + 10 * frame["x"]
    return frame


def predictor_for(frame, target, network_class=TabularMLP, **options):
    pre = TablePreprocessor(target).fit(
        frame.drop(columns="price" if target == "label" else "label")
    )
    torch.manual_seed(0)
    return TablePredictor(pre, network_class.from_preprocessor(pre, **options))


def test_classification_probabilities_and_class_names():
    frame = rows()
    predictor = predictor_for(frame, "label", hidden=[8])
    probabilities = predictor.predict(frame)
    pre, network = predictor.preprocessor, predictor.network.eval()
    expected = torch.softmax(network(pre.transform(frame)), dim=1).detach().numpy()
    np.testing.assert_allclose(probabilities, expected, rtol=1e-6)
    names = predictor.predict_classes(frame)
    assert list(names) == [pre.class_names[i] for i in expected.argmax(1)]


def test_regression_predictions_are_in_the_targets_units():
    frame = rows()
    predictor = predictor_for(frame, "price", hidden=[8])
    pre, network = predictor.preprocessor, predictor.network.eval()
    scaled = network(pre.transform(frame)).detach()[:, 0].numpy()
    price = frame["price"].to_numpy()
    expected = scaled * price.std() + price.mean()
    np.testing.assert_allclose(predictor.predict(frame), expected, rtol=1e-5)
    with pytest.raises(ConfigError, match="predict_classes is for classification"):
        predictor.predict_classes(frame)


@pytest.mark.parametrize(
    "network_class, options",
    [(TabularMLP, {"hidden": [8]}), (FTTransformer, {"d_token": 8, "layers": 1, "heads": 2})],
    ids=["mlp", "ft_transformer"],
)
def test_save_and_load_give_identical_predictions(tmp_path, network_class, options):
    frame = rows()
    predictor = predictor_for(frame, "label", network_class, **options)
    path = predictor.save(tmp_path / "model")
    assert sorted(p.name for p in path.iterdir()) == ["config.json", "model.safetensors"]
    config = json.loads((path / "config.json").read_text())
    assert (
        config["format"] == "ember.tabular" and config["network_config"] == predictor.network.config
    )
    loaded = tabular.load(path)
    new = rows(16, seed=5).assign(group=["a", "zzz"] * 8)  # unseen values too
    with pytest.warns(UserWarning, match="'group'"):
        expected = predictor.predict(new)
    with pytest.warns(UserWarning, match="'group'"):
        assert np.array_equal(loaded.predict(new), expected)


def test_predict_reads_a_csv_path(tmp_path):
    frame = rows()
    predictor = predictor_for(frame, "label", hidden=[8])
    frame.to_csv(tmp_path / "rows.csv", index=False)
    np.testing.assert_allclose(
        predictor.predict(tmp_path / "rows.csv"), predictor.predict(frame), rtol=1e-6
    )


def test_a_failed_save_leaves_the_existing_folder_intact(tmp_path, monkeypatch):
    frame = rows()
    path = predictor_for(frame, "label", hidden=[8]).save(tmp_path / "model")
    before = {p.name: p.read_bytes() for p in path.iterdir()}

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr("ember.tabular.predictor.save_weights", broken)
    with pytest.raises(SaveError, match="nothing was overwritten"):
        predictor_for(frame, "label", hidden=[4]).save(path)
    assert {p.name: p.read_bytes() for p in path.iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]  # no staging left behind


def test_save_and_load_refuse_what_is_not_theirs(tmp_path):
    frame = rows()
    predictor = predictor_for(frame, "label", hidden=[8])
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "keep.txt").write_text("mine")
    with pytest.raises(SaveError, match="not an ember model folder"):
        predictor.save(tmp_path / "notes")
    with pytest.raises(SaveError, match="no saved table predictor"):
        tabular.load(tmp_path / "notes")
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "config.json").write_text('{"format": "keras"}')
    with pytest.raises(SaveError, match="format 'keras'"):
        tabular.load(tmp_path / "other")
    plain = TablePredictor(predictor.preprocessor, torch.nn.Linear(5, 2))
    with pytest.raises(SaveError, match="received a Linear"):
        plain.save(tmp_path / "linear")


def test_predictor_arguments_are_checked():
    frame = rows()
    pre = TablePreprocessor("label").fit(frame)
    with pytest.raises(ConfigError, match="fitted TablePreprocessor"):
        TablePredictor(TablePreprocessor("label"), TabularMLP([3], 1, 2))
    with pytest.raises(ConfigError, match="the preprocessor gives"):
        TablePredictor(pre, TabularMLP([3], 1, 2))
    with pytest.raises(ConfigError, match="torch.nn.Module"):
        TablePredictor(pre, "mlp")


def test_fit_trains_on_the_engine_and_holds_out_a_stratified_part():
    frame = rows(200)
    predictor = tabular.fit(frame, "label", epochs=3, batch_size=32, verbose=0, hidden=[16])
    history = predictor.history.history
    assert len(history["loss"]) == 3 and len(history["val_accuracy"]) == 3
    assert history["loss"][-1] < history["loss"][0]
    assert predictor.predict(frame).shape == (200, 2)
    regression = tabular.fit(
        frame.drop(columns="label"),
        "price",
        model="ft_transformer",
        validation=None,
        epochs=2,
        batch_size=64,
        verbose=0,
        d_token=8,
        heads=2,
        layers=1,
    )
    assert sorted(regression.history.history) == ["loss"]
    assert regression.predict(frame).shape == (200,)


def test_fit_takes_a_validation_frame_and_a_preprocessor():
    frame = rows(100).drop(columns="price")
    # "x" named categorical: 100 distinct floats, so every validation value is unseen
    pre = TablePreprocessor("label", categorical=["x"])
    with pytest.warns(UserWarning, match="'x': 20 of 20 rows"):
        predictor = tabular.fit(
            frame.iloc[:80], pre, validation=frame.iloc[80:], epochs=1, batch_size=16, verbose=0
        )
    assert predictor.preprocessor is pre
    assert pre.categorical == ["x", "group"] and pre.numeric == ["size"]
    assert pre.cardinalities == [80 + 2, 3 + 2]  # fitted on the 80 training rows only
    assert len(predictor.history.history["val_loss"]) == 1


def test_fit_rejects_bad_arguments_before_training():
    frame = rows(50)
    with pytest.raises(UnknownNameError, match="mlp"):
        tabular.fit(frame, "label", model="mpl", verbose=0)
    with pytest.raises(ConfigError, match="received validation=1.5"):
        tabular.fit(frame, "label", validation=1.5, verbose=0)
    with pytest.raises(ConfigError, match="received epochs=0"):
        tabular.fit(frame, "label", epochs=0, verbose=0)
    with pytest.raises(ConfigError, match="did you mean 'label'"):
        tabular.fit(frame, "labels", verbose=0)
    with pytest.raises(DataError, match="missing in 1 of 50 rows"):
        tabular.fit(frame.assign(label=[None] + ["up"] * 49), "label", verbose=0)


def test_the_guides_examples_run():
    page = (ROOT / "docs" / "tabular.md").read_text()
    blocks = re.findall(r"```python\n(.+?)\n```", page, flags=re.S)
    assert len(blocks) == 2
    namespace = {}
    with pytest.warns(UserWarning, match=r"'city': 1 of 2 rows .*'Brest'"):  # as the page says
        for index, code in enumerate(blocks):
            exec(compile(code, f"docs/tabular.md block {index}", "exec"), namespace)  # noqa: S102
    assert namespace["predictor"].preprocessor.class_names == ["no", "yes"]
