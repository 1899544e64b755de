"""BPETokenizer: byte-level training, exact round trips, HF tokenizer.json files, and errors."""

import json

import pytest
import tokenizers
import torch
from tokenizers import decoders, models, normalizers, pre_tokenizers, processors

from ember.errors import ConfigError, DataError, SaveError
from ember.nlp import BPETokenizer, CharTokenizer

CORPUS = [
    "The naïve café owner — Zoë — said: “Don't panic!” It's 3.14 o'clock.",
    "The owner of the café said the crème brûlée was the best in the town.",
    "Lower, lowest, newer, newest: the owners tested their tokenizer on these words.",
    "A tokenizer turns text into ids; the ids turn back into the same text.",
] * 3
UNSEEN = "Ünïcödé 🙂 tabs\tand\nnewlines,  double  spaces, and [PAD] typed as text — 日本語."


@pytest.fixture(scope="module")
def trained():
    return BPETokenizer(vocab_size=300).fit(CORPUS)


def test_round_trip_is_exact_even_for_unseen_characters(trained):
    for text in CORPUS[:4] + [UNSEEN, " leading space", ""]:
        ids = trained.encode(text)
        assert 0 not in ids  # "[PAD]" typed in a text is text, not the padding id
        assert trained.decode(ids) == text


def test_vocabulary_size_equals_the_requested_size(trained):
    assert trained.vocabulary_size == 300 == len(trained.vocabulary)
    assert trained.vocabulary[0] == "[PAD]" and trained.padding_token == "[PAD]"
    # merges compress: far fewer ids than UTF-8 bytes
    assert len(trained.encode(CORPUS[1])) < len(CORPUS[1].encode()) / 2


def test_small_corpus_gives_a_smaller_vocabulary_never_a_larger_one():
    # "ab ab ab": pairs a+b (3 times) then " "+ab (2 times); with min_frequency=2 that is 2 merges.
    tokenizer = BPETokenizer(vocab_size=1000, min_frequency=2).fit(["ab ab ab"])
    assert tokenizer.vocabulary_size == 257 + 2
    assert tokenizer.encode("ab ab") == [
        tokenizer.vocabulary.index("ab"),
        tokenizer.vocabulary.index("Ġab"),
    ]


def test_training_is_deterministic():
    first = BPETokenizer(vocab_size=290).fit(CORPUS)
    second = BPETokenizer.from_texts(CORPUS, vocab_size=290)
    assert first.vocabulary == second.vocabulary
    assert first.encode(UNSEEN) == second.encode(UNSEEN)


def test_encode_batch_pads_with_zero_and_rows_decode_back(trained):
    texts = ["the café", "the owners tested their tokenizer", "ids"]
    batch = trained.encode_batch(texts)
    lengths = [len(trained.encode(text)) for text in texts]
    assert batch.dtype == torch.long and batch.shape == (3, max(lengths))
    assert [(row != 0).sum().item() for row in batch] == lengths
    assert [trained.decode(row) for row in batch] == texts
    assert trained.encode_batch(texts, length=2, truncation=True).shape == (3, 2)
    with pytest.raises(
        DataError,
        match=f"text 0 encodes to {lengths[0]} tokens, more than length=2.*length={max(lengths)}",
    ):
        trained.encode_batch(texts, length=2)


def test_save_load_gives_an_equal_tokenizer(tmp_path, trained):
    trained.save(tmp_path / "bpe.json")
    loaded = BPETokenizer.load(tmp_path / "bpe.json")
    assert loaded.vocabulary == trained.vocabulary and loaded.vocab_size == 300
    assert loaded.encode(UNSEEN) == trained.encode(UNSEEN)
    assert loaded.decode(loaded.encode(UNSEEN)) == UNSEEN


@pytest.fixture
def wordpiece_file(tmp_path):
    """A small BERT-style WordPiece tokenizer.json, as MiniLM's is built (with padding switched on)."""
    vocabulary = [
        "[PAD]",
        "[UNK]",
        "[CLS]",
        "[SEP]",
        "hello",
        "world",
        "un",
        "##aff",
        "##able",
        ",",
        "!",
    ]
    tokenizer = tokenizers.Tokenizer(
        models.WordPiece({token: i for i, token in enumerate(vocabulary)}, unk_token="[UNK]")
    )
    tokenizer.add_special_tokens(["[PAD]", "[UNK]", "[CLS]", "[SEP]"])
    tokenizer.normalizer = normalizers.BertNormalizer(lowercase=True)
    tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tokenizer.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", special_tokens=[("[CLS]", 2), ("[SEP]", 3)]
    )
    tokenizer.decoder = decoders.WordPiece(prefix="##")
    tokenizer.enable_padding(pad_id=0, pad_token="[PAD]", length=16)
    tokenizer.enable_truncation(max_length=4)
    path = tmp_path / "tokenizer.json"
    tokenizer.save(str(path))
    return path


def test_loading_a_wordpiece_tokenizer_json_encodes_like_bert(wordpiece_file):
    tokenizer = BPETokenizer.from_file(wordpiece_file)
    assert tokenizer.vocabulary_size == 11 and tokenizer.padding_token == "[PAD]"
    # the file's own padding (to 16) and truncation (to 4) are off: ember's encode_batch decides
    assert tokenizer.encode("Hello, unaffable WORLD!") == [2, 4, 9, 6, 7, 8, 5, 10, 3]
    assert tokenizer.encode("hello zebra") == [2, 4, 1, 3]
    assert tokenizer.decode([2, 4, 9, 6, 7, 8, 5, 10, 3, 0]) == "hello, unaffable world!"
    plain = BPETokenizer.from_file(wordpiece_file.parent, add_special_tokens=False)
    assert plain.encode("hello world") == [4, 5]
    assert plain.encode_batch(["hello world", "world"]).tolist() == [[4, 5], [5, 0]]


def test_a_loaded_file_survives_save_and_load(tmp_path, wordpiece_file):
    tokenizer = BPETokenizer.from_file(wordpiece_file)
    tokenizer.save(tmp_path / "ember.json")
    loaded = BPETokenizer.load(tmp_path / "ember.json")
    assert loaded.encode("Hello unaffable world") == tokenizer.encode("Hello unaffable world")
    assert loaded.add_special_tokens and loaded.vocabulary == tokenizer.vocabulary


def test_file_whose_id_0_is_a_real_token_refuses_to_pad(tmp_path):
    tokenizer = tokenizers.Tokenizer(models.WordLevel({"a": 0, "b": 1, "[UNK]": 2}, "[UNK]"))
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    wrapped = BPETokenizer.from_hf(tokenizer)
    assert wrapped.padding_token is None
    assert wrapped.encode_batch(["a b", "b a"]).tolist() == [[0, 1], [1, 0]]  # no padding needed
    with pytest.raises(
        ConfigError, match="cannot pad: id 0 of this tokenizer is the real token 'a'"
    ):
        wrapped.encode_batch(["a b", "b"])


def test_from_hf_copies_and_checks_its_argument():
    original = tokenizers.Tokenizer(models.WordLevel({"[PAD]": 0, "x": 1}, "[PAD]"))
    original.enable_padding(length=8)
    BPETokenizer.from_hf(original)
    assert original.padding is not None  # the caller's tokenizer is left as it was
    with pytest.raises(ConfigError, match="expected a tokenizers.Tokenizer, received str"):
        BPETokenizer.from_hf("tokenizer.json")


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: BPETokenizer(vocab_size=256), "at least 257.*received vocab_size=256"),
        (lambda: BPETokenizer(min_frequency=0), "received min_frequency=0"),
        (lambda: BPETokenizer().encode("a"), "no vocabulary yet"),
    ],
)
def test_invalid_arguments_raise_config_error(make, message):
    with pytest.raises(ConfigError, match=message):
        make()


def test_input_errors(trained):
    with pytest.raises(DataError, match="empty corpus"):
        BPETokenizer(vocab_size=300).fit(["", ""])
    with pytest.raises(DataError, match=r"byte offset 4 \(0x80\)"):
        trained.encode(b"text\x80")
    with pytest.raises(DataError, match="id 300 at position 1 is outside the vocabulary"):
        trained.decode([5, 300])


def test_file_errors_name_the_file(tmp_path, wordpiece_file):
    with pytest.raises(SaveError, match="no tokenizer file at .*nowhere.json"):
        BPETokenizer.from_file(tmp_path / "nowhere.json")
    broken = tmp_path / "broken.json"
    broken.write_text('{"model": {"type": "Nope"}}')
    with pytest.raises(SaveError, match="broken.json is not a tokenizer.json"):
        BPETokenizer.from_file(broken)
    with pytest.raises(SaveError, match=r"tokenizer.json is not a BPETokenizer file.*from_file"):
        BPETokenizer.load(wordpiece_file)
    CharTokenizer.from_texts(["a"]).save(tmp_path / "chars.json")
    with pytest.raises(
        SaveError, match="chars.json is not a BPETokenizer file.*CharTokenizer.load"
    ):
        BPETokenizer.load(tmp_path / "chars.json")
    corrupt = tmp_path / "corrupt.json"
    corrupt.write_text(
        json.dumps({"ember_tokenizer": "BPETokenizer", "format": 1, "tokenizer": {}})
    )
    with pytest.raises(SaveError, match="corrupt.json is a corrupt BPETokenizer file"):
        BPETokenizer.load(corrupt)
