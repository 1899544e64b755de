"""WordTokenizer: splitting, hand-counted vocabularies, OOV, round trips, files and errors."""

import pytest
import torch

from ember.errors import ConfigError, DataError, SaveError
from ember.layers import Embedding
from ember.nlp import CharTokenizer, WordTokenizer

PARAGRAPH = (
    "The naïve café owner — Zoë — said: “Don't panic!” It's 3.14 o'clock, "
    "and the crème brûlée (with cream) costs €5. The owner said it twice."
)


def test_split_keeps_unicode_words_and_makes_each_punctuation_mark_a_token():
    words = WordTokenizer().tokenize("Naïve café — “Don't”, 3.14 brûlée!")
    assert words == [
        "naïve",
        "café",
        "—",
        "“",
        "don",
        "'",
        "t",
        "”",
        ",",
        "3",
        ".",
        "14",
        "brûlée",
        "!",
    ]
    assert WordTokenizer(lowercase=False).tokenize("Zoë said") == ["Zoë", "said"]


def test_round_trip_is_exact_up_to_whitespace_and_case():
    tokenizer = WordTokenizer().fit([PARAGRAPH])
    ids = tokenizer.encode(PARAGRAPH)
    text = tokenizer.decode(ids)
    assert tokenizer.encode(text) == ids and 1 not in ids  # no OOV: every word was fitted
    assert text.startswith("the naïve café owner — zoë — said: “ don ' t panic! ” it ' s 3. 14")
    assert text.endswith("crème brûlée (with cream) costs € 5. the owner said it twice.")
    assert tokenizer.decode(tokenizer.encode("The  owner\n\tsaid")) == "the owner said"


def test_vocabulary_counts_checked_by_hand():
    # counts: the=3, cat=2, sat=2, on=1, mat=1, .=2 ; first appearances: the, cat, sat, on, mat, .
    texts = ["The cat sat on the mat.", "The cat sat."]
    tokenizer = WordTokenizer().fit(texts)
    assert tokenizer.vocabulary == ["[PAD]", "[UNK]", "the", "cat", "sat", ".", "on", "mat"]
    assert WordTokenizer(min_freq=2).fit(texts).vocabulary == [
        "[PAD]",
        "[UNK]",
        "the",
        "cat",
        "sat",
        ".",
    ]
    assert WordTokenizer(min_freq=3).fit(texts).vocabulary == ["[PAD]", "[UNK]", "the"]
    capped = WordTokenizer(max_vocab=4).fit(texts)
    assert capped.vocabulary_size == 4 and capped.vocabulary[2:] == ["the", "cat"]
    no_oov = WordTokenizer(max_vocab=4, oov_token=None).fit(texts)
    assert no_oov.vocabulary == ["[PAD]", "the", "cat", "sat"]


def test_lowercase_false_keeps_case_apart():
    tokenizer = WordTokenizer(lowercase=False).fit(["The the THE the"])
    assert tokenizer.vocabulary == ["[PAD]", "[UNK]", "the", "The", "THE"]
    assert tokenizer.decode(tokenizer.encode("THE The")) == "THE The"


def test_oov_words_map_to_id_1_and_decode_as_the_oov_token():
    tokenizer = WordTokenizer(min_freq=2).fit(["a b a", "c b a"])
    assert tokenizer.encode("a zebra b c") == [2, 1, 3, 1]
    assert tokenizer.decode([2, 1, 3, 0, 0]) == "a [UNK] b"
    assert WordTokenizer(oov_token="<unk>").fit(["x"]).encode("y") == [1]


def test_unknown_word_without_oov_names_word_position_and_fix():
    tokenizer = WordTokenizer(oov_token=None).fit(["the cat sat"])
    with pytest.raises(DataError, match=r"word 'dog' at character 4 .*oov_token='\[UNK\]'"):
        tokenizer.encode("The dog sat")


def test_encode_batch_shapes_and_values():
    tokenizer = WordTokenizer().fit(["the cat sat", "the dog"])  # the=2 cat=3 sat=4 dog=5
    batch = tokenizer.encode_batch(["the cat sat", "the dog"])
    assert batch.dtype == torch.long and batch.tolist() == [[2, 3, 4], [2, 5, 0]]
    assert tokenizer.encode_batch(["dog"], length=4).tolist() == [[5, 0, 0, 0]]
    cut = tokenizer.encode_batch(["the cat sat", "the dog"], length=2, truncation=True)
    assert cut.tolist() == [[2, 3], [2, 5]]
    with pytest.raises(
        DataError, match=r"text 0 encodes to 3 tokens, more than length=2.*length=3"
    ):
        tokenizer.encode_batch(["the cat sat", "the dog"], length=2)


def test_padding_masks_with_embedding_mask_zero():
    tokenizer = WordTokenizer().fit(["a b c", "a"])
    batch = tokenizer.encode_batch(["a b c", "a"])
    embedding = Embedding(tokenizer.vocabulary_size, 4, mask_zero=True)
    assert embedding(batch).shape == (2, 3, 4)
    assert embedding.compute_mask(batch).tolist() == [[True, True, True], [True, False, False]]


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"min_freq": 0}, "received min_freq=0"),
        ({"max_vocab": 2}, "above 2.*received max_vocab=2"),
        ({"max_vocab": 1, "oov_token": None}, "above 1.*received max_vocab=1"),
        ({"oov_token": ""}, "received oov_token=''"),
    ],
)
def test_invalid_arguments_raise_config_error(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        WordTokenizer(**kwargs)


def test_input_errors():
    tokenizer = WordTokenizer().fit(["a b"])
    with pytest.raises(DataError, match="empty corpus"):
        WordTokenizer().fit([""])
    with pytest.raises(DataError, match=r"byte offset 3 \(0xe9\)"):
        tokenizer.encode(b"caf\xe9")  # Latin-1 é
    with pytest.raises(DataError, match="id 4 at position 0 is outside the vocabulary"):
        tokenizer.decode([4])
    with pytest.raises(DataError, match="expected a text as str"):
        tokenizer.encode(3)


def test_save_load_gives_an_equal_tokenizer(tmp_path):
    tokenizer = WordTokenizer(lowercase=False, min_freq=2, max_vocab=50, oov_token="<unk>")
    tokenizer.fit([PARAGRAPH, PARAGRAPH.upper()])
    tokenizer.save(tmp_path / "words.json")
    loaded = WordTokenizer.load(tmp_path / "words.json")
    assert loaded.vocabulary == tokenizer.vocabulary
    assert (loaded.lowercase, loaded.min_freq, loaded.max_vocab, loaded.oov_token) == (
        False,
        2,
        50,
        "<unk>",
    )
    assert loaded.encode(PARAGRAPH) == tokenizer.encode(PARAGRAPH)


def test_saving_overwrites_atomically_and_loading_a_char_file_is_an_error(tmp_path):
    path = tmp_path / "t.json"
    WordTokenizer().fit(["old words"]).save(path)
    WordTokenizer().fit(["new"]).save(path)
    assert WordTokenizer.load(path).vocabulary == ["[PAD]", "[UNK]", "new"]
    CharTokenizer.from_texts(["ab"]).save(path)
    with pytest.raises(
        SaveError, match=r"t.json is not a WordTokenizer file \(it holds CharTokenizer\)"
    ):
        WordTokenizer.load(path)
