"""plot_model: the boxes and arrows of a model's drawing, and the PNG."""

import shutil

import pytest

import ember
from ember import layers
from ember.plots.model_graph import model_graph, plot_model


def _two_input_model() -> ember.Model:
    a, b = ember.Input(shape=(4,), name="a"), ember.Input(shape=(3,), name="b")
    joined = layers.Concatenate(name="join")([a, b])
    hidden = layers.Dense(8, name="hidden")(joined)
    return ember.Model(
        [a, b], [layers.Dense(2, name="head")(hidden), layers.Dense(3, name="aux")(joined)]
    )


def test_functional_graph_has_a_box_per_input_and_call_and_an_arrow_per_connection():
    boxes, edges = model_graph(_two_input_model(), True, False, True)
    assert [box.split("\n")[0] for box in boxes] == ["a", "b", "join", "hidden", "head", "aux"]
    assert sorted(edges) == [(0, 2), (1, 2), (2, 3), (2, 5), (3, 4)]
    assert boxes[2] == "join\nConcatenate\n(None, 7)"


def test_sequential_is_drawn_as_a_chain(tmp_path):
    model = ember.Sequential([layers.Dense(3, input_shape=(2,)), layers.Dense(1)])
    boxes, edges = model_graph(model, False, False, True)
    assert boxes == ["dense\nDense", "dense_1\nDense"] and edges == [(0, 1)]
    path = plot_model(model, tmp_path / "seq.png", engine="matplotlib")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_plot_model_writes_a_png_with_either_engine(tmp_path):
    path = plot_model(_two_input_model(), tmp_path / "m.png", show_shapes=True, rankdir="LR")
    assert path.read_bytes()[:4] == b"\x89PNG"


def test_bad_options_are_refused_before_drawing(tmp_path):
    with pytest.raises(ember.ConfigError, match="rankdir must be 'TB' or 'LR'"):
        plot_model(_two_input_model(), tmp_path / "m.png", rankdir="XY")
    if shutil.which("dot") is None:
        with pytest.raises(ember.ConfigError, match="needs Graphviz's dot program"):
            plot_model(_two_input_model(), tmp_path / "m.png", engine="dot")
    assert not (tmp_path / "m.png").exists()
