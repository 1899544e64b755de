"""model.predict on strings through an attached tokenizer; vocabulary and context checks."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ember import layers, models
from ember.errors import ConfigError, DataError
from ember.nlp import CharTokenizer, WordTokenizer
from ember.nlp.text_inputs import embedding_rows, load_tokenizer, model_context

TEXTS = ["a fine film", "a dull film", "fine acting and a fine plot"]


def word_model(vocabulary_size: int) -> models.Sequential:
    torch.manual_seed(0)
    return models.Sequential(
        [
            layers.Embedding(vocabulary_size, 8, mask_zero=True),
            layers.GlobalAveragePooling1D(),
            layers.Dense(2, activation="softmax"),
        ]
    )


def test_predict_on_strings_equals_predict_on_the_tokenizers_ids():
    tokenizer = WordTokenizer.from_texts(TEXTS)
    model = word_model(tokenizer.vocabulary_size)
    model.set_tokenizer(tokenizer)
    ids = tokenizer.encode_batch(TEXTS)  # the reference: what a user would do by hand
    expected = model.predict(ids)
    got = model.predict(TEXTS)
    assert isinstance(got, np.ndarray) and got.shape == (3, 2)  # text in, numpy out (Keras)
    torch.testing.assert_close(torch.from_numpy(got), expected, rtol=0, atol=0)
    assert model.tokenizer is tokenizer


def test_text_without_a_tokenizer_says_how_to_attach_one():
    model = word_model(10)
    model.build((5,))
    with pytest.raises(DataError, match="no tokenizer.*set_tokenizer"):
        model.predict(["a fine film"])


def test_a_tokenizer_larger_than_the_embedding_table_is_refused():
    tokenizer = WordTokenizer.from_texts(TEXTS)
    model = word_model(tokenizer.vocabulary_size - 2)
    with pytest.raises(ConfigError, match=f"has {tokenizer.vocabulary_size} ids.*rows"):
        model.set_tokenizer(tokenizer)


def test_texts_longer_than_the_context_need_truncation():
    tokenizer = CharTokenizer.from_texts(TEXTS)
    torch.manual_seed(0)
    model = models.Sequential(
        [
            layers.TokenAndPositionEmbedding(tokenizer.vocabulary_size, 8, 4, mask_zero=True),
            layers.GlobalAveragePooling1D(),
            layers.Dense(2),
        ]
    )
    model.set_tokenizer(tokenizer)
    assert model_context(model) == 8
    with pytest.raises(DataError, match="more than the model reads \\(8\\).*truncation=True"):
        model.predict(["a fine film"])
    model.set_tokenizer(tokenizer, truncation=True)
    cut = torch.from_numpy(model.predict(["a fine film"]))
    torch.testing.assert_close(cut, model.predict(tokenizer.encode_batch(["a fine f"])))
    with pytest.raises(ConfigError, match="length=9 is longer than the model reads"):
        model.set_tokenizer(tokenizer, length=9)


def test_the_tokenizer_is_saved_and_loaded_with_the_model(tmp_path):
    tokenizer = WordTokenizer.from_texts(TEXTS)
    model = word_model(tokenizer.vocabulary_size)
    model.set_tokenizer(tokenizer, length=6, truncation=True)
    expected = model.predict(TEXTS)  # builds the model, too
    model.save(tmp_path / "model")
    assert (tmp_path / "model" / "tokenizer.json").is_file()
    loaded = models.load_model(tmp_path / "model")
    assert loaded.tokenizer.vocabulary == tokenizer.vocabulary
    assert (loaded.text_encoding.length, loaded.text_encoding.truncation) == (6, True)
    np.testing.assert_array_equal(loaded.predict(TEXTS), expected)


def test_load_tokenizer_reads_any_ember_tokenizer(tmp_path):
    for tokenizer in (CharTokenizer.from_texts(TEXTS), WordTokenizer.from_texts(TEXTS)):
        tokenizer.save(tmp_path / "t.json")
        loaded = load_tokenizer(tmp_path / "t.json")
        assert type(loaded) is type(tokenizer) and loaded.vocabulary == tokenizer.vocabulary


def test_embedding_rows_finds_torch_and_ember_tables():
    assert embedding_rows(torch.nn.Sequential(torch.nn.Embedding(7, 2))) == 7
    assert embedding_rows(layers.Embedding(5, 2)) == 5
    assert embedding_rows(torch.nn.Linear(2, 2)) is None
