"""The textgen-* recipes on a tiny corpus: runs, samples, evaluation, exact resume, generation."""

from __future__ import annotations

import math

import pytest
import torch
from partial_runs import train_first_epoch

from ember import recipes
from ember.cli import main
from ember.errors import ConfigError, DataError
from ember.recipes import text_data
from ember.runs import load_checkpoint, metrics_log, training

CORPUS = (
    "Call me Ishmael. Some years ago, never mind how long precisely, having little or no money "
    "in my purse, and nothing particular to interest me on shore, I thought I would sail about "
    "a little and see the watery part of the world. "
) * 6
TINY = {
    "epochs": 2,
    "units": 16,
    "embedding_dim": 8,
    "sequence_length": 16,
    "batch_size": 8,
    "sample_length": 20,
    "heads": 2,
    "layers": 1,
}


@pytest.fixture(autouse=True)
def tiny_corpus(monkeypatch):
    monkeypatch.setitem(text_data.CORPORA, "moby_dick", lambda: CORPUS)


def test_windows_are_split_by_position_and_shifted_by_one():
    data, tokenizer = text_data.load_char_corpus(
        "moby_dick", sequence_length=10, validation_fraction=0.1
    )
    x, y = data.train
    assert x.shape[1] == 10 and torch.equal(x[:, 1:], y[:, :-1])
    cut = int(len(CORPUS) * 0.9)
    assert tokenizer.decode(x[0].tolist()) == CORPUS[:10]
    assert tokenizer.decode(data.val[0][0].tolist()) == CORPUS[cut : cut + 10]
    # No test text by default (it used to be the validation text again): no test column.
    assert data.test is None


def test_train_test_and_validation_windows_are_disjoint_parts_of_the_text():
    # 1,000 distinct characters: a window's ids say where in the text it was cut from.
    text = "".join(chr(0x4E00 + position) for position in range(1000))
    data, tokenizer = text_data.load_char_corpus(
        None, sequence_length=10, validation_fraction=0.1, test_fraction=0.05, text=text
    )

    def positions(split: str) -> set[int]:
        inputs, targets = data.split(split)
        ids = torch.cat([inputs.flatten(), targets.flatten()]).tolist()
        return {ord(tokenizer.decode([i])) - 0x4E00 for i in ids}

    train, test, val = positions("train"), positions("test"), positions("val")
    assert not train & test and not train & val and not test & val
    assert max(train) < min(test) and max(test) < min(val)
    assert min(val) == 900 and min(test) == 850  # validation: the last 10%, as before
    assert len(train | test | val) > 950  # only the ragged ends of the parts are left out
    with pytest.raises(ConfigError, match="received test_fraction=0.95"):
        text_data.load_char_corpus(
            None, sequence_length=10, validation_fraction=0.1, test_fraction=0.95, text=text
        )
    with pytest.raises(ConfigError, match="the test part of the text has 5 tokens, too few"):
        text_data.load_char_corpus(
            None, sequence_length=10, validation_fraction=0.1, test_fraction=0.005, text=text
        )


def test_the_final_test_numbers_are_a_held_out_evaluation_not_the_validation_ones(tmp_path):
    recipe = recipes.get("textgen-lstm")
    run = tmp_path / "run"
    config = recipe.config(**{**TINY, "epochs": 1, "test_fraction": 0.05})
    result = training.train(recipe, config, out=run, verbose=0)
    last_epoch = metrics_log.epochs(run / "metrics.jsonl")[-1]
    validation = training.evaluate(run, split="val")
    # The last checkpoint scored on the validation text repeats the epoch's validation loss...
    assert math.isclose(validation["loss"], last_epoch["val_loss"], rel_tol=1e-5)
    # ... and on the test text it gives other numbers: other text, never trained on.
    assert result.test["loss"] != pytest.approx(last_epoch["val_loss"], rel=1e-5)
    assert result.test["accuracy"] != validation["accuracy"]


@pytest.mark.parametrize(
    "name", ["textgen-rnn", "textgen-lstm", "textgen-gru", "textgen-transformer"]
)
def test_each_recipe_trains_samples_and_evaluates_in_nats_and_bits(tmp_path, name):
    recipe = recipes.get(name)
    result = training.train(recipe, recipe.config(**TINY), out=tmp_path / "run", verbose=0)
    assert result.finished
    assert result.test is None  # no test split: the final evaluation is the validation split's
    test = result.validation
    assert math.isclose(test["bits_per_token"], test["loss"] / math.log(2), rel_tol=1e-6)
    assert math.isclose(test["perplexity"], math.exp(test["loss"]), rel_tol=1e-6)
    epochs = metrics_log.epochs(tmp_path / "run" / "metrics.jsonl")
    assert [e["epoch"] for e in epochs] == [1, 2]
    assert all(e["sample"].startswith("Call me") for e in epochs)
    assert epochs[-1]["val_loss"] < math.log(len(set(CORPUS)) + 1)  # better than uniform guessing
    page = (tmp_path / "run" / "report.html").read_text()
    assert "Generated text after each epoch" in page and "bits_per_token" in page


def test_a_stopped_run_resumes_to_the_same_weights_and_samples(tmp_path, monkeypatch):
    recipe = recipes.get("textgen-lstm")
    config = recipe.config(**{**TINY, "epochs": 3})
    training.train(recipe, config, out=tmp_path / "whole", verbose=0)

    train_first_epoch(recipe, config, tmp_path / "part", monkeypatch)
    assert load_checkpoint(tmp_path / "part").epoch == 1
    training.resume(tmp_path / "part", verbose=0)
    whole = load_checkpoint(tmp_path / "whole").weights
    part = load_checkpoint(tmp_path / "part").weights
    assert whole.keys() == part.keys()
    for key in whole:
        assert torch.equal(whole[key], part[key]), key
    samples = [
        [e["sample"] for e in metrics_log.epochs(tmp_path / run / "metrics.jsonl")]
        for run in ("whole", "part")
    ]
    assert samples[0] == samples[1]


def train_tiny_gru(run):
    settings = [item for key, value in TINY.items() for item in ("--set", f"{key}={value}")]
    assert main(["train", "textgen-gru", *settings, "--out", str(run), "--quiet"]) == 0


def test_ember_generate_streams_a_continuation(tmp_path, capsys):
    run = tmp_path / "run"
    train_tiny_gru(run)
    capsys.readouterr()
    args = ["generate", str(run), "--prompt", "Call me", "--length", "30", "--seed", "3"]
    assert main(args) == 0
    first = capsys.readouterr().out
    assert first.startswith("Call me") and len(first) == len("Call me") + 30 + 1  # and "\n"
    assert main([*args, "--no-cache"]) == 0
    assert capsys.readouterr().out == first  # the cache changes the speed, not the text


def test_generate_errors_name_the_problem(tmp_path, capsys):
    run = tmp_path / "run"
    train_tiny_gru(run)
    assert main(["generate", str(run), "--prompt", "Call me ✈"]) == 1
    assert "✈" in capsys.readouterr().err
    assert main(["generate", str(run), "--prompt", "Call", "--temperature", "-1"]) == 2
    assert "temperature" in capsys.readouterr().err


def test_a_classification_run_cannot_generate(tmp_path, capsys):
    run = tmp_path / "mlp"
    tiny = ["--set", "train_samples=200", "--set", "hidden_units=4", "--epochs", "1"]
    assert main(["train", "fashion-mlp", *tiny, "--out", str(run), "--quiet"]) == 0
    assert main(["generate", str(run), "--prompt", "Call me"]) == 2
    assert "not a language-model run" in capsys.readouterr().err


def test_bad_textgen_settings_fail_before_anything_is_written(tmp_path):
    recipe = recipes.get("textgen-lstm")
    with pytest.raises(ConfigError, match="model in rnn, lstm, gru, transformer"):
        training.train(recipe, recipe.config(model="tcn"), out=tmp_path / "a", verbose=0)
    with pytest.raises(ConfigError, match="too few for one window"):
        training.train(recipe, recipe.config(sequence_length=10**6), out=tmp_path / "b", verbose=0)
    with pytest.raises(DataError, match="✈"):
        training.train(recipe, recipe.config(sample_prompt="✈"), out=tmp_path / "c", verbose=0)
    assert not any(tmp_path.iterdir())


def test_a_run_without_test_text_shows_no_test_column(tmp_path, capsys):
    settings = [f"--set={key}={value}" for key, value in TINY.items()]
    run = tmp_path / "run"
    assert main(["train", "textgen-gru", *settings, "--out", str(run), "--quiet"]) == 0
    out = capsys.readouterr().out
    header = next(line for line in out.splitlines() if "metric" in line)
    assert "validation" in header and "test" not in header
    assert "perplexity" in out  # the final evaluation's numbers, in the validation column
    page = (run / "report.html").read_text()
    assert "Validation metrics" in page and "Test metrics" not in page
    assert "finished after epoch 2 of 2" in page
    with pytest.raises(ConfigError, match=r"no test split \(none held out\). Fix: use --split val"):
        training.evaluate(run, split="test")
