"""The sentiment-* recipes on a tiny labelled corpus: split, runs, report, word2vec start, MiniLM cache."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from safetensors import safe_open

from ember import datasets, recipes
from ember.cli import main
from ember.datasets.rotten_tomatoes import LabelledTexts
from ember.errors import ConfigError, DataError
from ember.nlp import Word2Vec
from ember.recipes import sentiment_data
from ember.recipes.sentiment_data import split_texts
from ember.runs import training

GOOD = ["a fine and moving film", "the best film of the year", "warm, funny and wise"]
BAD = ["a dull and lifeless film", "the worst film of the year", "cold, flat and tedious"]
TEXTS = [f"{text} {i}" for i in range(10) for text in GOOD + BAD]  # 60 snippets
LABELS = np.array([1, 1, 1, 0, 0, 0] * 10)
TINY = {"epochs": 1, "units": 8, "embedding_dim": 8, "batch_size": 8, "device": "cpu"}
BOOKS = "the film was fine and the sea was cold. the whale was the worst of the year. " * 40


@pytest.fixture(autouse=True)
def tiny_corpus(monkeypatch):
    data = LabelledTexts(TEXTS, LABELS, ["rotten", "fresh"])
    monkeypatch.setitem(sentiment_data.CORPORA, "rotten_tomatoes", lambda: data)
    monkeypatch.setattr(datasets, "jane_austen", lambda: BOOKS)
    monkeypatch.setattr(datasets, "moby_dick", lambda: BOOKS)


def test_the_split_is_stratified_disjoint_and_fixed_by_the_seed():
    split = split_texts(TEXTS, LABELS, seed=3)
    parts = [split.train, split.val, split.test]
    assert [len(texts) for texts, _ in parts] == [48, 6, 6]
    assert all(labels.float().mean() == 0.5 for _, labels in parts)  # class shares kept
    assert len({t for texts, _ in parts for t in texts}) == 60
    assert split_texts(TEXTS, LABELS, seed=3).test[0] == split.test[0]
    assert split_texts(TEXTS, LABELS, seed=4).test[0] != split.test[0]
    with pytest.raises(ConfigError, match="test_size between 0 and 0.5"):
        split_texts(TEXTS, LABELS, seed=0, test_size=0.7)


def test_sentiment_lstm_trains_evaluates_and_lists_wrong_texts(tmp_path):
    recipe = recipes.get("sentiment-lstm")
    result = training.train(recipe, recipe.config(**TINY), root=tmp_path, verbose=0)
    assert set(result.test) >= {"accuracy", "f1", "roc_auc", "precision", "recall"}
    with safe_open(str(result.run_dir / "evaluation" / "test.safetensors"), "pt") as file:
        metadata = file.metadata()
        assert "wrong_images" not in file.keys()
        wrong = json.loads(metadata["wrong_texts"])
        assert len(wrong) == len(file.get_tensor("wrong_labels"))
    assert all(text in TEXTS for text in wrong)
    report = (result.run_dir / "report.html").read_text()
    assert ("Most confidently wrong test texts" in report) == bool(wrong)


def test_too_long_snippets_need_truncate(tmp_path):
    recipe = recipes.get("sentiment-lstm")
    experiment = recipe.build(recipe.config(**TINY, max_length=3, truncate=True))
    assert experiment.data.train[0].shape[1] == 3
    with pytest.raises(DataError, match="more than the model reads \\(3\\).*--set truncate=true"):
        recipe.build(recipe.config(**TINY, max_length=3))


def test_sentiment_word2vec_starts_from_the_books_vectors():
    recipe = recipes.get("sentiment-word2vec")
    experiment = recipe.build(recipe.config(**TINY))
    reference = Word2Vec(vector_size=8, epochs=5, seed=0).fit(BOOKS + "\n" + BOOKS)
    embedding = experiment.network.layers[0]
    index = experiment.tokenizer.vocabulary.index("film")
    torch.testing.assert_close(embedding.weight[index], reference["film"])
    assert embedding.weight.requires_grad  # fine-tuned unless freeze_embeddings
    frozen = recipe.build(recipe.config(**TINY, freeze_embeddings=True))
    assert not frozen.network.layers[0].weight.requires_grad


def test_sentiment_minilm_caches_the_frozen_bottom(tmp_path):
    recipe = recipes.get("sentiment-minilm")
    config = recipe.config(epochs=1, batch_size=8, trainable_layers=1, device="cpu")
    experiment = recipe.build(config)
    x, _ = experiment.data.test
    assert x.shape[1:] == (80, 385) and x.is_floating_point()  # cached: hidden + mask channel
    network = experiment.network
    assert [p.requires_grad for p in network.encoder.layers[-1].parameters()][0]
    assert not any(p.requires_grad for p in network.encoder.layers[-2].parameters())
    ids = experiment.tokenizer.encode_batch(experiment.data.texts["test"][:2], length=80)
    network.eval()
    with torch.no_grad():
        torch.testing.assert_close(network(x[:2]), network(ids), atol=1e-4, rtol=1e-4)
    with pytest.raises(ConfigError, match="exceeds MiniLM's 512 positions"):
        recipe.build(recipe.config(max_length=600))


def test_unknown_model_is_refused():
    recipe = recipes.get("sentiment-lstm")
    with pytest.raises(ConfigError, match="expected model in lstm, word2vec, minilm"):
        recipe.build(recipe.config(model="cnn"))


def test_ember_predict_classifies_texts_with_the_runs_tokenizer(tmp_path, capsys):
    recipe = recipes.get("sentiment-lstm")
    result = training.train(recipe, recipe.config(**TINY), root=tmp_path, verbose=0)
    capsys.readouterr()
    assert main(["predict", str(result.run_dir), "--text", "a fine film", "--text", "dull"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert [line.split(":")[0] for line in lines] == ["'a fine film'", "'dull'"]
    assert all("fresh" in line and "rotten" in line for line in lines)
    assert main(["predict", str(result.run_dir)]) == 2  # neither files nor --text
    assert "either files" in capsys.readouterr().err
