"""CharTokenizer: exact round trips, vocabulary order, batching, files, and every input error."""

import json

import pytest
import torch

from ember.errors import ConfigError, DataError, SaveError
from ember.nlp import CharTokenizer, WordTokenizer

PARAGRAPH = (
    "The naïve café owner — Zoë — said: “Don't panic!” It's 3.14 o'clock,\n"
    "and the crème brûlée costs €5. Ünïcödé, emoji 🙂 and tabs\tsurvive."
)


def test_round_trip_is_exact_on_unicode_paragraph():
    tokenizer = CharTokenizer.from_texts([PARAGRAPH])
    ids = tokenizer.encode(PARAGRAPH)
    assert len(ids) == len(PARAGRAPH) and 0 not in ids
    assert tokenizer.decode(ids) == PARAGRAPH
    assert tokenizer.decode(torch.tensor(ids)) == PARAGRAPH


def test_vocabulary_is_most_frequent_first_ties_by_first_appearance():
    # counts: b=3, a=3, c=2, d=1; b appears before a, so it comes first among the 3s.
    tokenizer = CharTokenizer().fit(["bab", "cad", "bca"])
    assert tokenizer.vocabulary == ["[PAD]", "b", "a", "c", "d"]
    assert tokenizer.vocabulary_size == 5
    assert CharTokenizer().fit(["abc", "cad", "bab"]).vocabulary == ["[PAD]", "a", "b", "c", "d"]


def test_fit_accepts_a_single_string_and_utf8_bytes():
    assert CharTokenizer().fit("abca").vocabulary == ["[PAD]", "a", "b", "c"]
    tokenizer = CharTokenizer().fit(["café".encode()])
    assert tokenizer.encode("café".encode()) == tokenizer.encode("café") == [1, 2, 3, 4]


def test_oov_token_maps_unseen_characters_to_id_1():
    tokenizer = CharTokenizer(oov_token="?").fit(["abc"])
    assert tokenizer.vocabulary == ["[PAD]", "?", "a", "b", "c"]
    assert tokenizer.encode("axb") == [2, 1, 3]
    assert tokenizer.decode([2, 1, 3]) == "a?b"


def test_unseen_character_without_oov_names_character_position_and_fix():
    tokenizer = CharTokenizer.from_texts(["hello"])
    with pytest.raises(DataError, match=r"character 'z' at character 2 .*oov_token"):
        tokenizer.encode("hez")


def test_encode_batch_pads_with_zero_to_longest():
    tokenizer = CharTokenizer.from_texts(["abc"])
    batch = tokenizer.encode_batch(["abc", "a", ""])
    assert batch.dtype == torch.long and batch.shape == (3, 3)
    assert batch.tolist() == [[1, 2, 3], [1, 0, 0], [0, 0, 0]]
    assert [tokenizer.decode(row) for row in batch] == ["abc", "a", ""]


def test_encode_batch_pads_and_truncates_to_length():
    tokenizer = CharTokenizer.from_texts(["abcd"])
    assert tokenizer.encode_batch(["ab"], length=4).tolist() == [[1, 2, 0, 0]]
    cut = tokenizer.encode_batch(["abcd", "ab"], length=3, truncation=True)
    assert cut.tolist() == [[1, 2, 3], [1, 2, 0]]
    exact = tokenizer.encode_batch(["abcd", "dcba"], padding=False)
    assert exact.tolist() == [[1, 2, 3, 4], [4, 3, 2, 1]]


def test_text_longer_than_length_without_truncation_names_lengths_and_fix():
    tokenizer = CharTokenizer.from_texts(["abcd"])
    with pytest.raises(
        DataError, match=r"text 1 encodes to 4 tokens, more than length=3.*truncation=True"
    ):
        tokenizer.encode_batch(["ab", "abcd"], length=3)


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        (
            {"texts": ["ab", "abc"], "padding": False},
            DataError,
            "text 0 encodes to 2 tokens, fewer than 3",
        ),
        ({"texts": "abc"}, DataError, "expects a list of texts, received a single str"),
        ({"texts": []}, DataError, "received no texts"),
        ({"texts": ["a"], "length": 0}, ConfigError, "received length=0"),
        ({"texts": ["a"], "truncation": True}, ConfigError, "truncation=True needs a length"),
    ],
)
def test_encode_batch_argument_errors(kwargs, error, message):
    with pytest.raises(error, match=message):
        CharTokenizer.from_texts(["abc"]).encode_batch(**kwargs)


def test_invalid_utf8_bytes_name_the_byte_offset():
    tokenizer = CharTokenizer.from_texts(["abc"])
    with pytest.raises(DataError, match=r"not valid UTF-8: byte offset 2 \(0xff\)"):
        tokenizer.encode(b"ab\xffc")
    with pytest.raises(DataError, match="byte offset 1"):
        CharTokenizer().fit([b"a\xc3"])


def test_fitting_on_an_empty_corpus_is_an_error():
    for corpus in ([], [""], ["", ""], ""):
        with pytest.raises(DataError, match="empty corpus"):
            CharTokenizer().fit(corpus)


def test_decode_of_id_outside_vocabulary_names_the_id_and_position():
    tokenizer = CharTokenizer.from_texts(["ab"])
    with pytest.raises(
        DataError, match=r"id 3 at position 1 is outside the vocabulary \(ids 0 to 2\)"
    ):
        tokenizer.decode([1, 3])
    with pytest.raises(DataError, match="id -1 at position 0"):
        tokenizer.decode([-1])
    with pytest.raises(DataError, match=r"1-D\), received shape \(1, 2\)"):
        tokenizer.decode(torch.tensor([[1, 2]]))


def test_using_an_unfitted_tokenizer_says_to_fit():
    with pytest.raises(ConfigError, match=r"no vocabulary yet.*fit\(texts\)"):
        CharTokenizer().encode("a")


def test_oov_token_equal_to_padding_is_a_config_error():
    with pytest.raises(ConfigError, match="received oov_token='\\[PAD\\]'"):
        CharTokenizer(oov_token="[PAD]")


def test_save_load_gives_an_equal_tokenizer(tmp_path):
    tokenizer = CharTokenizer(oov_token="?").fit([PARAGRAPH])
    tokenizer.save(tmp_path / "chars.json")
    loaded = CharTokenizer.load(tmp_path / "chars.json")
    assert loaded.vocabulary == tokenizer.vocabulary and loaded.oov_token == "?"
    assert loaded.encode(PARAGRAPH + "ж") == tokenizer.encode(PARAGRAPH + "ж")
    assert [p.name for p in tmp_path.iterdir()] == ["chars.json"]  # no temporary file left


def test_loading_another_kind_of_tokenizer_names_the_file_and_the_right_class(tmp_path):
    WordTokenizer().fit(["a b"]).save(tmp_path / "words.json")
    with pytest.raises(
        SaveError, match=r"words.json is not a CharTokenizer file.*WordTokenizer.load"
    ):
        CharTokenizer.load(tmp_path / "words.json")


@pytest.mark.parametrize(
    "content, message",
    [
        ("{not json", "is not a readable tokenizer JSON file"),
        ('["a list"]', "not a CharTokenizer file"),
        ('{"model": {}, "added_tokens": []}', "BPETokenizer.from_file"),
        ('{"ember_tokenizer": "CharTokenizer", "format": 1}', "corrupt CharTokenizer file"),
        (
            '{"ember_tokenizer": "CharTokenizer", "format": 1, "oov_token": null, "vocabulary": ["a"]}',
            "corrupt CharTokenizer file",
        ),
        ('{"ember_tokenizer": "CharTokenizer", "format": 99}', "format 99"),
    ],
)
def test_loading_a_corrupt_file_is_a_save_error_naming_it(tmp_path, content, message):
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(SaveError, match=message) as caught:
        CharTokenizer.load(path)
    assert "bad.json" in str(caught.value)


def test_loading_a_missing_file_names_it(tmp_path):
    with pytest.raises(SaveError, match="no tokenizer file at .*missing.json"):
        CharTokenizer.load(tmp_path / "missing.json")


def test_saved_file_is_plain_json_naming_the_class(tmp_path):
    CharTokenizer.from_texts(["ba"]).save(tmp_path / "t.json")
    data = json.loads((tmp_path / "t.json").read_text())
    assert data == {
        "ember_tokenizer": "CharTokenizer",
        "format": 1,
        "oov_token": None,
        "vocabulary": ["[PAD]", "b", "a"],
    }
