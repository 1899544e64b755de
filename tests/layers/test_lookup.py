"""StringLookup, IntegerLookup, CategoryEncoding and TextVectorization against Keras 3.

CategoryEncoding runs in Keras 3 on the torch backend and is compared directly. Keras' lookup
and text layers need TensorFlow, which the test environment does not have, so they are checked
against the numbers Keras' own tests expect (keras/src/layers/preprocessing/*_test.py) and
against Keras' vocabulary ordering, `np.lexsort((tokens, counts))[::-1]` (index_lookup.py)."""

import math
import os
from collections import Counter

import numpy as np
import pytest
import torch

from ember import layers
from ember.errors import ConfigError, DataError, ShapeError

os.environ.setdefault("KERAS_BACKEND", "torch")
import keras  # noqa: E402

CORPUS = ["The cat sat on the mat.", "The dog sat!", "A cat, a dog; a bird?", "bird bird mat"]


def keras_vocabulary_order(documents: list[list[str]]) -> list[str]:
    """Keras' finalize_state: sort by (count, token bytes), reversed."""
    counts = Counter(token for document in documents for token in document)
    tokens = np.array([token.encode() for token in counts], dtype=object)
    order = np.lexsort((tokens, np.array(list(counts.values()))))[::-1]
    return [tokens[i].decode() for i in order]


# -- StringLookup ----------------------------------------------------------------------------------
def test_string_lookup_vocabulary_order_and_indices_are_keras():
    words = "b a c a b d e e e f".split() + ["é", "z", "é"]  # ties, and a non-ASCII token
    lookup = layers.StringLookup()
    lookup.adapt(words)
    assert lookup.get_vocabulary() == ["[UNK]", *keras_vocabulary_order([[w] for w in words])]
    assert lookup.get_vocabulary()[:4] == ["[UNK]", "e", "é", "b"]
    # keras string_lookup_test: test_adapt_flow.
    lookup = layers.StringLookup()
    lookup.adapt(["a", "a", "a", "b", "b", "c"])
    assert lookup(["b", "c", "d"]).tolist() == [2, 3, 0]


def test_string_lookup_special_tokens_modes_and_invert_as_in_keras_tests():
    lookup = layers.StringLookup(vocabulary=["a", "b", "c"], oov_token="[OOV]")
    assert lookup(["a", "b", "[OOV]", "d"]).tolist() == [1, 2, 0, 0]
    assert lookup([["a", "c"], ["d", "b"]]).dtype == torch.int64
    inverse = layers.StringLookup(vocabulary=["a", "b", "c"], oov_token="[OOV]", invert=True)
    assert inverse(torch.tensor([1, 2, 0])) == ["a", "b", "[OOV]"]
    multi_hot = layers.StringLookup(vocabulary=["a", "b"], output_mode="multi_hot")
    assert multi_hot(["a", "b"]).tolist() == [0, 1, 1]
    masked = layers.StringLookup(vocabulary=["a"], mask_token="[MASK]")
    assert masked(["[MASK]", "a"]).tolist() == [0, 2]
    assert masked.get_vocabulary() == ["[MASK]", "[UNK]", "a"]
    assert masked.get_vocabulary(include_special_tokens=False) == ["a"]
    two_slots = layers.StringLookup(vocabulary=["a"], num_oov_indices=2)
    assert two_slots(["a", "x", "x"]).tolist()[0] == 2 and two_slots(["x"]).item() in (0, 1)


def test_string_lookup_config_rebuilds_the_adapted_layer():
    lookup = layers.StringLookup(output_mode="count", max_tokens=3)
    lookup.adapt([["a", "b"], ["b", "c"], ["c", "c"]])
    rebuilt = layers.StringLookup(**lookup.get_config())
    words = [["c", "a", "z"], ["b", "b", "b"]]
    assert rebuilt.get_vocabulary() == ["[UNK]", "c", "b"]  # max_tokens=3: OOV and the 2 first
    assert torch.equal(rebuilt(words), lookup(words))


# -- IntegerLookup ---------------------------------------------------------------------------------
def test_integer_lookup_matches_keras_tests_in_every_output_mode():
    expected = {  # keras integer_lookup_test: test_adapt_flow, inputs [1, 2, 4]
        "int": [1, 2, 0],
        "one_hot": [[0, 1, 0, 0], [0, 0, 1, 0], [1, 0, 0, 0]],
        "multi_hot": [1, 1, 1, 0],
        "tf_idf": [1.133732, 0.916291, 1.098612, 0.0],
    }
    for mode, values in expected.items():
        lookup = layers.IntegerLookup(output_mode=mode)
        lookup.adapt([1, 1, 1, 2, 2, 3])
        np.testing.assert_allclose(lookup(torch.tensor([1, 2, 4])).numpy(), values, rtol=1e-6)
    counts = layers.IntegerLookup(output_mode="count")
    counts.adapt([1, 1, 1, 2, 2, 3])
    assert counts([1, 2, 3, 4, 1, 2, 1]).tolist() == [1, 3, 2, 1]
    one_hot = layers.IntegerLookup(vocabulary=[1, 2, 3], output_mode="one_hot")
    assert one_hot(np.array([[1, 2], [3, 0]])).tolist() == [
        [[0, 1, 0, 0], [0, 0, 1, 0]],
        [[0, 0, 0, 1], [1, 0, 0, 0]],
    ]


def test_integer_lookup_buckets_invert_and_mask():
    buckets = layers.IntegerLookup(vocabulary=[10, 20], num_oov_indices=3)
    assert buckets(torch.tensor([10, 7, 8, 20, 9])).tolist() == [3, 1, 2, 4, 0]  # 7 % 3 = 1
    inverse = layers.IntegerLookup(vocabulary=[10, 20], mask_token=0, invert=True)
    assert inverse(torch.tensor([0, 1, 2, 3, 9])).tolist() == [0, -1, 10, 20, -1]
    masked = layers.IntegerLookup(vocabulary=[10, 20], mask_token=0, output_mode="multi_hot")
    assert masked(torch.tensor([[0, 20, 5]])).tolist() == [[1, 0, 1]]  # 0 is dropped


# -- CategoryEncoding ------------------------------------------------------------------------------
@pytest.mark.parametrize("mode", ["multi_hot", "one_hot", "count"])
@pytest.mark.parametrize("ids", [[3, 2, 0, 1, 1], [[0, 1], [0, 0], [1, 2], [3, 1]], [[1], [3]]])
def test_category_encoding_matches_keras(mode, ids):
    expected = keras.layers.CategoryEncoding(4, output_mode=mode)(np.array(ids))
    out = layers.CategoryEncoding(4, output_mode=mode)(torch.tensor(ids))
    assert out.dtype == torch.float32
    np.testing.assert_array_equal(out.numpy(), expected.cpu().numpy())


def test_category_encoding_count_weights_match_keras():
    ids, weights = np.array([[0, 1, 1], [2, 3, 3]]), np.array([[0.5, 1, 2], [1, 1, 3]])
    expected = keras.layers.CategoryEncoding(4, output_mode="count")(ids, count_weights=weights)
    out = layers.CategoryEncoding(4, output_mode="count")(ids.tolist(), count_weights=weights)
    np.testing.assert_allclose(out.numpy(), expected.cpu().numpy())


# -- TextVectorization -----------------------------------------------------------------------------
def test_text_vectorization_vocabulary_is_keras_order_after_keras_standardization():
    vectorize = layers.TextVectorization()
    vectorize.adapt(CORPUS)
    documents = [text.lower().replace(".", "").replace("!", "").split() for text in CORPUS]
    documents = [[word.strip(",;?") for word in document] for document in documents]
    assert vectorize.get_vocabulary() == ["", "[UNK]", *keras_vocabulary_order(documents)]
    assert vectorize.get_vocabulary()[2:5] == ["the", "bird", "a"]  # 3 each: larger first


def test_text_vectorization_outputs_match_keras_tests():
    # keras text_vectorization_test: standardization, count, tf_idf, split=None.
    words = ["hello", "world", "this", "is", "nice", "test"]
    ids = layers.TextVectorization(vocabulary=words)(["Hello, World!. This is just a nice test!"])
    assert ids.tolist() == [[2, 3, 4, 5, 1, 1, 6, 7]]
    counts = layers.TextVectorization(output_mode="count", vocabulary=["foo", "bar", "baz"])
    assert counts(["foo bar", "baz foo foo"]).tolist() == [[0, 1, 1, 0], [0, 2, 0, 1]]
    tf_idf = layers.TextVectorization(
        output_mode="tf_idf", vocabulary=["foo", "bar", "baz"], idf_weights=[0.3, 0.5, 0.2]
    )
    np.testing.assert_allclose(
        tf_idf(["foo bar", "baz foo foo"]).numpy(), [[0, 0.3, 0.5, 0], [0, 0.6, 0, 0.2]], rtol=1e-6
    )
    whole = layers.TextVectorization(split=None, vocabulary=["foo", "bar", "baz"])
    assert whole([["foo"], ["bar"], ["unknown"]]).tolist() == [[2], [3], [1]]


def test_text_vectorization_pads_truncates_and_makes_ngrams():
    vectorize = layers.TextVectorization(output_sequence_length=3, vocabulary=["a", "b", "c"])
    assert vectorize(["a b c a b", "c", ""]).tolist() == [[2, 3, 4], [4, 0, 0], [0, 0, 0]]
    ragged = layers.TextVectorization(vocabulary=["a", "b"])
    assert ragged(["a", "b a b"]).tolist() == [[2, 0, 0], [3, 2, 3]]  # to the longest text
    bigrams = layers.TextVectorization(ngrams=2, vocabulary=["x y", "y z", "x", "y", "z"])
    assert bigrams(["x y z"]).tolist() == [[4, 5, 6, 2, 3]]  # all words, then all bigrams
    characters = layers.TextVectorization(split="character", vocabulary=["a", "b"])
    assert characters(["abba"]).tolist() == [[2, 3, 3, 2]]


def test_text_vectorization_tf_idf_weights_are_keras_formula():
    vectorize = layers.TextVectorization(output_mode="tf_idf")
    vectorize.adapt(iter([["a b b", "b c"], ["c c d"]]))  # batches: each text is a document
    assert vectorize.get_vocabulary() == ["[UNK]", "c", "b", "d", "a"]
    idf = [math.log(1 + 3 / (1 + frequency)) for frequency in (2, 2, 1, 1)]  # log(1 + N/(1+df))
    expected = [np.mean(idf), 2 * idf[0], idf[1], 0, 0]  # OOV ("z") gets the mean weight
    np.testing.assert_allclose(vectorize(["c b c z"]).numpy()[0], expected, rtol=1e-6)
    rebuilt = layers.TextVectorization(**vectorize.get_config())
    assert torch.equal(rebuilt(["c c z", "a"]), vectorize(["c c z", "a"]))


# -- bad arguments and inputs ----------------------------------------------------------------------
def test_lookup_layers_refuse_bad_arguments():
    with pytest.raises(ConfigError, match="invert=True.*needs output_mode='int'"):
        layers.StringLookup(invert=True, output_mode="count")
    with pytest.raises(ConfigError, match="expected an integer >= 2, received max_tokens=1"):
        layers.StringLookup(max_tokens=1)
    with pytest.raises(ConfigError, match="pad_to_max_tokens=True needs max_tokens"):
        layers.IntegerLookup(pad_to_max_tokens=True)
    with pytest.raises(ConfigError, match=r"each token once.*repeated \['a'\]"):
        layers.StringLookup(vocabulary=["a", "b", "a"])
    with pytest.raises(ConfigError, match="needs idf_weights"):
        layers.TextVectorization(output_mode="tf_idf", vocabulary=["a"])
    with pytest.raises(ConfigError, match="output_sequence_length pads token ids"):
        layers.TextVectorization(output_mode="multi_hot", output_sequence_length=4)
    with pytest.raises(ConfigError, match="received standardize='upper'"):
        layers.TextVectorization(standardize="upper")
    with pytest.raises(ConfigError, match="received ngrams=0"):
        layers.TextVectorization(ngrams=0)
    with pytest.raises(ConfigError, match="received num_tokens=0.*Fix: use IntegerLookup"):
        layers.CategoryEncoding(0)
    with pytest.raises(ConfigError, match="given its vocabulary; adapt would replace it"):
        layers.StringLookup(vocabulary=["a"]).adapt(["b"])


def test_lookup_layers_refuse_bad_inputs():
    with pytest.raises(ConfigError, match="no vocabulary yet.*adapt"):
        layers.StringLookup()(["a"])
    with pytest.raises(DataError, match="received an element 3 of type int"):
        layers.StringLookup(vocabulary=["a"])(["a", 3])
    with pytest.raises(DataError, match=r"num_oov_indices=0\) received strings outside.*\['z'\]"):
        layers.StringLookup(vocabulary=["a"], num_oov_indices=0)(["a", "z"])
    with pytest.raises(DataError, match="takes integer tensors, received dtype torch.float32"):
        layers.IntegerLookup(vocabulary=[1])(torch.ones(2))
    with pytest.raises(DataError, match="found no strings"):
        layers.StringLookup().adapt(["[UNK]"])
    with pytest.raises(DataError, match="values from 0 to 4, expected 0 to 3"):
        layers.CategoryEncoding(4)(torch.tensor([0, 4]))
    with pytest.raises(ConfigError, match="count_weights are used only with output_mode='count'"):
        layers.CategoryEncoding(4)(torch.tensor([0, 1]), count_weights=[1.0, 2.0])
    with pytest.raises(DataError, match="received a tensor"):
        layers.TextVectorization(vocabulary=["a"])(torch.ones(2))
    with pytest.raises(ShapeError, match=r"\(N,\) or \(N, 1\), received shape \(1, 2\)"):
        layers.TextVectorization(vocabulary=["a"])([["a", "b"]])
