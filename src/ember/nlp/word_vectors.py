"""What any table of word vectors can do: neighbours, analogies, projector files, maps, Embedding rows.

These functions take the words (a list, row order) and their vectors (a ``(V, D)`` tensor), so they
serve vectors trained by :class:`~ember.nlp.Word2Vec` or read from anywhere else
(``Word2Vec.from_vectors``). Similarity is cosine similarity throughout.

Example:
    >>> import torch
    >>> words = ["king", "queen", "man", "woman"]
    >>> vectors = torch.tensor([[1.0, 1.0], [1.0, -1.0], [0.2, 1.0], [0.2, -1.0]])
    >>> analogy(words, vectors, "man", "king", "woman", k=1)
    [('queen', 0.9...)]
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from ember import checks
from ember.errors import ConfigError, DataError, ShapeError, UnknownNameError
from ember.files import atomic_path
from ember.layers import Embedding
from ember.nlp.tokenizer_base import PAD_TOKEN, Tokenizer

MAP_METHODS = ("pca", "tsne")
UNKNOWN_ROWS = ("random", "zero")


def word_index(words: Sequence[str], word: str) -> int:
    """The row of ``word``; an unknown word is an :class:`UnknownNameError` naming close matches."""
    if not isinstance(word, str):
        raise ConfigError(f"expected a word as a str, received {type(word).__name__}: {word!r}")
    if word in words:
        return list(words).index(word)
    close = difflib.get_close_matches(word, list(words), n=5, cutoff=0.6)
    lowered = word.lower()
    if lowered != word and lowered in words and lowered not in close:
        close.insert(0, lowered)
    hint = f"close matches: {', '.join(map(repr, close))}" if close else "no close matches"
    raise UnknownNameError(
        f"{word!r} is not in the vocabulary of {len(words)} words ({hint}). Fix: use a word the "
        f"vectors were trained on (check with `word in model`), or train with a lower min_count."
    )


def nearest(
    words: Sequence[str], vectors: torch.Tensor, query: torch.Tensor, k: int, exclude: list[int]
) -> list[tuple[str, float]]:
    """The ``k`` words whose vectors have the highest cosine similarity to ``query``."""
    unit = F.normalize(vectors.float(), dim=1)  # (V, D)
    scores = unit @ F.normalize(query.float(), dim=0)  # (V,)
    scores[exclude] = -float("inf")
    top = scores.topk(min(checks.positive_int("k", k), len(words) - len(set(exclude))))
    return [(words[i], float(s)) for s, i in zip(top.values.tolist(), top.indices.tolist())]


def most_similar(
    words: Sequence[str], vectors: torch.Tensor, word: str, k: int = 10
) -> list[tuple[str, float]]:
    """The ``k`` nearest words to ``word`` (itself left out), most similar first.

    Example:
        >>> vectors = torch.tensor([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0]])
        >>> most_similar(["sea", "ocean", "tea"], vectors, "sea", k=1)
        [('ocean', 0.99...)]
    """
    row = word_index(words, word)
    return nearest(words, vectors, vectors[row], k, [row])


def analogy(
    words: Sequence[str], vectors: torch.Tensor, a: str, b: str, c: str, k: int = 10
) -> list[tuple[str, float]]:
    """Words nearest to ``b - a + c``: "``a`` is to ``b`` as ``c`` is to ?" (3CosAdd).

    The three vectors are normalised first and the query words are left out of the answers, as
    in word2vec's ``compute-accuracy`` and gensim's ``most_similar(positive=[b, c], negative=[a])``.
    """
    rows = [word_index(words, word) for word in (a, b, c)]
    unit = F.normalize(vectors[rows].float(), dim=1)  # (3, D)
    return nearest(words, vectors, unit[1] - unit[0] + unit[2], k, rows)


def write_projector_tsv(folder: str | os.PathLike, words: Sequence[str], vectors: torch.Tensor):
    """Write ``vectors.tsv`` and ``metadata.tsv`` into ``folder`` for the embedding projector.

    ``vectors.tsv``: one line per word, its values separated by tabs (6 significant digits, enough
    for a map; ``save`` keeps the exact values). ``metadata.tsv``: the words, one per line, no
    header (the projector's format for a single column). Both UTF-8, written atomically.
    """
    for word in words:
        if not word or any(mark in word for mark in "\t\n\r"):
            raise DataError(
                f"cannot write the word {word!r} to metadata.tsv: the projector's format allows no "
                f"empty words, tabs or line breaks. Fix: train on tokens without them."
            )
    folder = Path(folder)
    vectors_path, metadata_path = folder / "vectors.tsv", folder / "metadata.tsv"
    rows = vectors.detach().cpu().float().numpy()
    with atomic_path(vectors_path) as temporary:
        np.savetxt(temporary, rows, fmt="%.6g", delimiter="\t", newline="\n", encoding="utf-8")
    with atomic_path(metadata_path) as temporary:
        temporary.write_text("".join(f"{word}\n" for word in words), encoding="utf-8")
    return vectors_path, metadata_path


def plot_word_map(
    path: str | os.PathLike,
    words: Sequence[str],
    vectors: torch.Tensor,
    method: str = "pca",
    seed: int = 0,
) -> Any:
    """Project ``vectors`` (one per word) to 2-D and draw a labelled scatter; returns the Figure.

    ``method="pca"`` keeps the two main directions of the (unit-length) vectors; ``"tsne"`` keeps
    neighbourhoods (scikit-learn's t-SNE, cosine distance, PCA start, perplexity at most 30).
    """
    if method not in MAP_METHODS:
        raise ConfigError(f"expected 'pca' or 'tsne', received method={method!r}")
    if len(words) < 3:
        raise DataError(f"a map needs at least 3 words, received {len(words)}")
    points = F.normalize(vectors.detach().cpu().float(), dim=1).numpy()  # (N, D)
    if method == "pca":
        from sklearn.decomposition import PCA

        xy = PCA(n_components=2, random_state=seed).fit_transform(points)
    else:
        from sklearn.manifold import TSNE

        perplexity = min(30.0, (len(words) - 1) / 3)
        tsne = TSNE(2, perplexity=perplexity, metric="cosine", init="pca", random_state=seed)
        xy = tsne.fit_transform(points)
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(11, 11), layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    axes.scatter(xy[:, 0], xy[:, 1], s=8, color="tab:blue", alpha=0.6)
    for word, (x, y) in zip(words, xy):
        axes.annotate(word, (x, y), xytext=(3, 2), textcoords="offset points", fontsize=8)
    axes.set_title(f"{len(words)} words, {'PCA' if method == 'pca' else 't-SNE'} of word vectors")
    axes.set_xticks([])
    axes.set_yticks([])
    path = Path(path)
    with atomic_path(path) as temporary:
        figure.savefig(temporary, format=path.suffix[1:].lower() or "png", dpi=100)
    return figure


def embedding_matrix(
    words: Sequence[str],
    vectors: torch.Tensor,
    tokenizer: Tokenizer | Sequence[str],
    unknown: str = "random",
    seed: int = 0,
) -> torch.Tensor:
    """Rows for ``tokenizer``'s ids: ``(tokenizer.vocabulary_size, D)``, float32.

    Row 0 is zero where id 0 is padding. A token found in ``words`` (as is, else lowercased) gets
    its vector; any other (the OOV token, punctuation, rare words) gets, with ``unknown="random"``,
    a vector drawn from a normal distribution with the vectors' own standard deviation (so unknown
    words stay distinguishable), or with ``unknown="zero"``, zeros (they add nothing).
    """
    if unknown not in UNKNOWN_ROWS:
        raise ConfigError(f"expected 'random' or 'zero', received unknown={unknown!r}")
    if isinstance(tokenizer, Tokenizer):
        tokens, padding = tokenizer.vocabulary, tokenizer.padding_token is not None
    else:
        tokens = list(tokenizer)
        padding = bool(tokens) and tokens[0] == PAD_TOKEN
    vectors = vectors.detach().cpu().float()
    index = {word: row for row, word in enumerate(words)}
    rows = [index.get(token, index.get(token.lower(), -1)) for token in tokens]
    generator = torch.Generator().manual_seed(seed)
    if unknown == "random":
        matrix = torch.randn(len(tokens), vectors.shape[1], generator=generator) * vectors.std()
    else:
        matrix = torch.zeros(len(tokens), vectors.shape[1])
    found = torch.tensor([row >= 0 for row in rows], dtype=torch.bool)
    matrix[found] = vectors[torch.tensor([row for row in rows if row >= 0], dtype=torch.long)]
    if padding:
        matrix[0] = 0.0
    return matrix


def load_embedding(layer: Embedding, matrix: torch.Tensor, trainable: bool = False) -> Embedding:
    """Copy ``matrix`` into ``layer.weight``; ``trainable=False`` freezes it (no gradient, no update).

    Example:
        >>> layer = load_embedding(Embedding(3, 2), torch.ones(3, 2))
        >>> layer.weight.requires_grad, float(layer.weight.sum())
        (False, 6.0)
    """
    if not isinstance(layer, Embedding):
        raise ConfigError(f"expected an ember layers.Embedding, received {type(layer).__name__}")
    if tuple(layer.weight.shape) != tuple(matrix.shape):
        rows, size = matrix.shape
        raise ShapeError(
            f"the vectors do not fit this Embedding: it has input_dim={layer.input_dim}, "
            f"output_dim={layer.output_dim}, but the tokenizer has {rows} ids and the vectors "
            f"{size} values. Fix: build Embedding({rows}, {size}) (tokenizer.vocabulary_size, "
            f"vector_size), with the tokenizer that encodes the data."
        )
    with torch.no_grad():
        layer.weight.copy_(matrix.to(layer.weight.device, layer.weight.dtype))
    layer.weight.requires_grad_(bool(trainable))
    return layer
