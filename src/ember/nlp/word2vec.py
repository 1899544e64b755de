"""Word embeddings: word2vec, skip-gram or CBOW with negative sampling, trained by gensim.

Training follows the word2vec recipe (Mikolov et al., 2013): frequent words subsampled, negatives
drawn from the unigram distribution to the power 0.75, a window shrunk at random for each word,
and a learning rate that falls linearly to almost zero. ember hands the work to gensim's compiled
word2vec and keeps the vectors as a ``torch.Tensor``; what comes after training (neighbours,
analogies, projector files, maps, ``Embedding`` rows, files) is ember's.

Why gensim: the same recipe was written in PyTorch, vectorised over chunks of 1,024 words (no
per-pair Python; the hand-written update checked against autograd), and run side by side with
gensim 4.4 on the same corpus with the same settings (``benchmarks/word2vec.py``: Jane Austen +
Moby-Dick, 944k words, 100 dimensions, 5 epochs; median of 3 seeds on 2 CPU cores):

==========  =======  ========  ======================  ========================
model       threads  gensim    PyTorch                 quality: gensim / PyTorch
==========  =======  ========  ======================  ========================
skip-gram   2        15.0 s    64.4 s (4.3x slower)    analogies 0.326 / 0.328
CBOW        2        5.4 s     20.4 s (3.8x slower)    analogies 0.269 / 0.229
skip-gram   1        28.6 s    96.1 s (3.4x slower)    analogies 0.335 / 0.330
CBOW        1        8.6 s     27.3 s (3.2x slower)    analogies 0.278 / 0.229
==========  =======  ========  ======================  ========================

PyTorch matches gensim's skip-gram vectors but not its speed: its time goes to gathering, scoring
and scatter-adding ~30k rows of 100 floats per chunk (the scatter-add alone is 37%), where gensim's
compiled loop updates one pair at a time in cache. Its CBOW vectors are also worse (neighbour purity
0.61 against 0.70; smaller chunks did not close the gap). Sharing each chunk's noise words, so that
they become matrix products, cut skip-gram to 35 s (still 2.3x) but diverged at word2vec's rate.
No GPU was available to measure one, so ember ships no engine that loses here: gensim trains (only
``fit`` imports it), and PyTorch takes over once the vectors exist.

Example:
    >>> from ember.nlp import Word2Vec
    >>> texts = ["the cat chased the mouse", "the dog chased the cat"] * 50
    >>> model = Word2Vec(vector_size=8, window=2, min_count=1, epochs=3).fit(texts)
    >>> model.vocabulary
    ['the', 'cat', 'chased', 'mouse', 'dog']
    >>> model.vectors.shape
    torch.Size([5, 8])
    >>> [word for word, _ in model.most_similar("cat", k=4)]  # doctest: +SKIP
    ['dog', 'mouse', 'chased', 'the']
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import torch

from ember import checks
from ember.errors import ConfigError, DataError, SaveError
from ember.files import read_json, write_json
from ember.layers import Embedding
from ember.nlp import word_vectors
from ember.nlp.tokenizer_base import Tokenizer
from ember.nlp.word2vec_training import train
from ember.saving import CONFIG_FILE, read_tensors, save_directory, save_tensors

VECTORS_FILE = "vectors.safetensors"
FORMAT = 1  # version of the folder layout written by Word2Vec.save
ARCHITECTURES = {True: "skipgram", False: "cbow", "skipgram": "skipgram", "cbow": "cbow"}


class Word2Vec:
    """Learn a vector per word from which words appear near it (word2vec with negative sampling).

    Args:
        vector_size: length of each word vector.
        window: largest distance between a word and a context word (each word draws its own
            window in ``1..window``, so near words count more).
        min_count: ignore words seen fewer times than this.
        sg: ``True`` or ``"skipgram"`` (predict the context from each word: better for rare
            words) or ``False`` or ``"cbow"`` (predict each word from its averaged context:
            several times faster).
        negative: noise words drawn per prediction.
        epochs: passes over the corpus.
        seed: seed of the initial vectors, negatives, windows and subsampling.
        sample: words more frequent than this share of the corpus are randomly dropped (word2vec's
            threshold, 1e-3; 0 keeps all words).
        workers: training threads. With 1 (the default) the same seed gives the same vectors;
            more threads are faster but race, as in the original word2vec.

    Strings are split like :class:`~ember.nlp.WordTokenizer` (lowercased, ``\\w+`` words) with
    punctuation dropped; pass lists of tokens to split text another way. Each text is one
    sequence: context windows never cross from one text to the next, so pass sentences or
    paragraphs to keep them apart.

    Example:
        >>> texts = ["a red apple", "a green apple", "a red car", "a green car"] * 20
        >>> model = Word2Vec(vector_size=4, window=2, min_count=1, sg="cbow").fit(texts)
        >>> "apple" in model, model["apple"].shape, model.counts[:2]
        (True, torch.Size([4]), [80, 40])
    """

    def __init__(
        self,
        vector_size: int = 100,
        window: int = 5,
        min_count: int = 5,
        sg: bool | str = True,
        negative: int = 5,
        epochs: int = 5,
        seed: int = 0,
        *,
        sample: float = 1e-3,
        workers: int = 1,
    ) -> None:
        for name, value in [("vector_size", vector_size), ("window", window),
                            ("min_count", min_count), ("negative", negative),
                            ("epochs", epochs), ("workers", workers)]:  # fmt: skip
            checks.positive_int(name, value)
        if not isinstance(sg, (bool, str)) or sg not in ARCHITECTURES:
            raise ConfigError(
                f"expected sg to be True, False, 'skipgram' or 'cbow', received {sg!r}"
            )
        seed = checks.non_negative_int("seed", seed)
        checks.number_in("sample", sample, 0, 1)
        self.vector_size = vector_size
        self.window = window
        self.min_count = min_count
        self.architecture = ARCHITECTURES[sg]  # "skipgram" or "cbow"
        self.negative = negative
        self.epochs = epochs
        self.seed = seed
        self.sample = float(sample)
        self.workers = workers
        self._words: list[str] | None = None
        self._counts: list[int] = []
        self._vectors: torch.Tensor | None = None

    # -- training ------------------------------------------------------------------------------
    def fit(self, texts: str | Iterable[str | Sequence[str]]) -> Word2Vec:
        """Train on ``texts``: strings, or lists of tokens (a single string is one text)."""
        self._words, self._counts, self._vectors = train(texts, self._settings())
        return self

    @classmethod
    def from_vectors(
        cls, words: Sequence[str], vectors: Any, counts: Sequence[int] | None = None
    ) -> Word2Vec:
        """Wrap vectors from anywhere (a ``(V, D)`` tensor or array, row ``i`` for ``words[i]``).

        Example:
            >>> model = Word2Vec.from_vectors(["sea", "ocean"], [[1, 0], [0.9, 0.1]])
            >>> model.most_similar("sea", k=1)
            [('ocean', 0.99...)]
        """
        words = list(words)
        vectors = torch.as_tensor(vectors, dtype=torch.float32).detach().cpu()
        if vectors.dim() != 2 or len(vectors) != len(words) or not words:
            raise DataError(
                f"expected one vector per word, a (V, D) table with V={len(words)}, received "
                f"shape {tuple(vectors.shape)}"
            )
        if len(set(words)) != len(words) or not all(isinstance(w, str) for w in words):
            raise DataError("expected distinct words, each a str")
        counts = [0] * len(words) if counts is None else [int(count) for count in counts]
        if len(counts) != len(words):
            raise DataError(f"expected one count per word ({len(words)}), received {len(counts)}")
        model = cls(vector_size=vectors.shape[1])
        model._words, model._counts, model._vectors = words, counts, vectors.contiguous()
        return model

    # -- the vectors ---------------------------------------------------------------------------
    @property
    def vectors(self) -> torch.Tensor:
        """The word vectors, ``(V, vector_size)``, row ``i`` for ``vocabulary[i]``."""
        return self._fitted()[1]

    @property
    def vocabulary(self) -> list[str]:
        """The words, most frequent first."""
        return list(self._fitted()[0])

    @property
    def counts(self) -> list[int]:
        """How often each word of :attr:`vocabulary` appeared in the training texts."""
        self._fitted()
        return list(self._counts)

    def __contains__(self, word: object) -> bool:
        return word in self._fitted()[0]

    def __getitem__(self, word: str) -> torch.Tensor:
        words, vectors = self._fitted()
        return vectors[word_vectors.word_index(words, word)]

    def most_similar(self, word: str, k: int = 10) -> list[tuple[str, float]]:
        """The ``k`` words nearest to ``word`` by cosine similarity, as ``(word, similarity)``."""
        return word_vectors.most_similar(*self._fitted(), word, k)

    def analogy(self, a: str, b: str, c: str, k: int = 10) -> list[tuple[str, float]]:
        """The ``k`` words nearest to ``b - a + c``: "``a`` is to ``b`` as ``c`` is to ?".

        Example:
            >>> model = Word2Vec.from_vectors(
            ...     ["man", "woman", "king", "queen"], [[1, 0, 0], [0, 1, 0], [1, 0, 1], [0, 1, 1]]
            ... )
            >>> model.analogy("man", "woman", "king", k=1)
            [('queen', 0.9...)]
        """
        return word_vectors.analogy(*self._fitted(), a, b, c, k)

    # -- into a model ----------------------------------------------------------------------------
    def embedding_matrix(
        self, tokenizer: Tokenizer | Sequence[str], unknown: str = "random"
    ) -> torch.Tensor:
        """Rows for ``tokenizer``'s ids, ``(tokenizer.vocabulary_size, vector_size)``.

        Row 0 (padding) is zero; a token the vectors know gets its vector (tried as is, then
        lowercased); the rest, the OOV token and punctuation included, get random rows with the
        vectors' spread (``unknown="random"``, drawn with this model's seed) or zeros
        (``unknown="zero"``).
        """
        words, vectors = self._fitted()
        return word_vectors.embedding_matrix(words, vectors, tokenizer, unknown, self.seed)

    def to_embedding(
        self,
        tokenizer: Tokenizer | Sequence[str],
        trainable: bool = False,
        mask_zero: bool = True,
        unknown: str = "random",
    ) -> Embedding:
        """A new ``layers.Embedding`` holding :meth:`embedding_matrix`; frozen unless ``trainable``.

        Example:
            >>> from ember.nlp import WordTokenizer
            >>> tokenizer = WordTokenizer().fit(["the sea, the ocean"])
            >>> model = Word2Vec.from_vectors(["sea", "ocean"], [[1.0, 0.0], [0.9, 0.1]])
            >>> layer = model.to_embedding(tokenizer)
            >>> layer.weight.shape, layer.weight.requires_grad, layer.weight[0].abs().sum().item()
            (torch.Size([6, 2]), False, 0.0)
        """
        matrix = self.embedding_matrix(tokenizer, unknown)
        layer = Embedding(matrix.shape[0], matrix.shape[1], mask_zero=mask_zero)
        return word_vectors.load_embedding(layer, matrix, trainable)

    def load_into(
        self,
        layer: Embedding,
        tokenizer: Tokenizer | Sequence[str],
        trainable: bool = False,
        unknown: str = "random",
    ) -> Embedding:
        """Copy :meth:`embedding_matrix` into an existing ``Embedding`` (e.g. inside a model).

        Its ``input_dim`` must be the tokenizer's vocabulary size and its ``output_dim`` the
        vector size, else a ShapeError says which to change.
        """
        return word_vectors.load_embedding(
            layer, self.embedding_matrix(tokenizer, unknown), trainable
        )

    # -- files -----------------------------------------------------------------------------------
    def export_tsv(self, folder: str | os.PathLike) -> tuple[Path, Path]:
        """Write ``vectors.tsv`` and ``metadata.tsv`` into ``folder`` for the embedding projector.

        Load both at https://projector.tensorflow.org ("Load"), or point TensorBoard's projector
        at them. Returns the two paths.
        """
        return word_vectors.write_projector_tsv(folder, *self._fitted())

    def plot_map(
        self,
        path: str | os.PathLike,
        words: Sequence[str] | None = None,
        method: str = "pca",
        top: int = 100,
    ) -> Any:
        """Save a labelled 2-D map (``method="pca"`` or ``"tsne"``) of ``words`` to ``path``.

        Without ``words``, the ``top`` most frequent words are drawn. The format follows the
        suffix of ``path`` (``.png``, ``.svg``, ``.pdf``); returns the matplotlib Figure.
        """
        vocabulary, vectors = self._fitted()
        if words is None:
            top = checks.positive_int("top", top)
            words = vocabulary[:top]
        rows = [word_vectors.word_index(vocabulary, word) for word in words]
        return word_vectors.plot_word_map(path, list(words), vectors[rows], method, self.seed)

    def save(self, path: str | os.PathLike) -> None:
        """Write a folder holding ``config.json`` (settings, words, counts) and the vectors."""
        words, vectors = self._fitted()
        config = {"ember": "Word2Vec", "format": FORMAT, "settings": self._settings()}
        config.update(vocabulary=words, counts=self._counts)

        def write(folder: Path) -> None:
            write_json(config, folder / CONFIG_FILE)
            save_tensors({"vectors": vectors}, folder / VECTORS_FILE)

        save_directory(path, write)

    @classmethod
    def load(cls, path: str | os.PathLike) -> Word2Vec:
        """Read a folder written by :meth:`save` (nothing is unpickled)."""
        path = Path(path)
        config = read_json(path / CONFIG_FILE)
        if not isinstance(config, dict) or config.get("ember") != "Word2Vec":
            raise SaveError(f"{path} is not a Word2Vec folder. Fix: pass a folder written by save.")
        if config.get("format") != FORMAT:
            raise SaveError(f"{path} has format {config.get('format')!r}; expected {FORMAT}.")
        tensors = read_tensors(path / VECTORS_FILE)
        try:
            settings = dict(config["settings"])
            architecture = settings.pop("architecture")
            model = cls(**settings, sg=architecture)
            loaded = cls.from_vectors(config["vocabulary"], tensors["vectors"], config["counts"])
        except (KeyError, TypeError, ValueError) as error:
            raise SaveError(
                f"{path} holds a corrupt Word2Vec ({error}). Fix: save it again."
            ) from error
        model._words, model._counts, model._vectors = loaded._words, loaded._counts, loaded._vectors
        return model

    # -- helpers -----------------------------------------------------------------------------------
    def _settings(self) -> dict[str, Any]:
        names = ("vector_size", "window", "min_count", "architecture", "negative", "epochs")
        return {name: getattr(self, name) for name in (*names, "seed", "sample", "workers")}

    def _fitted(self) -> tuple[list[str], torch.Tensor]:
        if self._words is None or self._vectors is None:
            raise ConfigError(
                "this Word2Vec has no vectors yet. Fix: call model.fit(texts) first, or "
                "Word2Vec.load(path) / Word2Vec.from_vectors(words, vectors)."
            )
        return self._words, self._vectors

    def __repr__(self) -> str:
        shown = ", ".join(f"{k}={v!r}" for k, v in self._settings().items())
        return f"Word2Vec({shown})"
