"""Word2vec training: texts to token sequences, checks before work starts, then gensim.

:class:`~ember.nlp.Word2Vec` calls :func:`train`; see ``word2vec.py`` for why gensim is the engine.

Example:
    >>> split_sentences(["Call me Ishmael.", ["pre", "split", "tokens"]])
    [['call', 'me', 'ishmael'], ['pre', 'split', 'tokens']]
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

import torch

from ember.errors import ConfigError, DataError
from ember.nlp.tokenizer_base import as_text

MAX_SENTENCE = 10_000  # gensim trains on at most this many words of one sequence: longer are cut
WORDS = re.compile(r"\w+")  # WordTokenizer's words (its WORD_PATTERN) without punctuation marks


def split_sentences(texts: str | Iterable[str | Sequence[str]]) -> list[list[str]]:
    """``texts`` as token lists of at most :data:`MAX_SENTENCE` tokens (longer ones are cut up).

    A string is lowercased and split into ``\\w+`` words; a list of strings is taken as tokens.
    """
    if isinstance(texts, (str, bytes, bytearray)):
        texts = [texts]
    sentences = []
    for position, text in enumerate(texts):
        if isinstance(text, (str, bytes, bytearray)):
            tokens = WORDS.findall(as_text(text).lower())
        elif isinstance(text, Sequence) and all(isinstance(token, str) for token in text):
            tokens = list(text)
        else:
            raise DataError(
                f"text {position} is a {type(text).__name__}; expected a str or a list of str "
                f"tokens. Fix: pass strings, or lists of strings."
            )
        sentences.extend(tokens[i : i + MAX_SENTENCE] for i in range(0, len(tokens), MAX_SENTENCE))
    return sentences


def train(
    texts: str | Iterable[str | Sequence[str]], settings: dict[str, Any]
) -> tuple[list[str], list[int], torch.Tensor]:
    """Train on ``texts`` with a Word2Vec's ``settings``; returns (words, counts, vectors (V, D)).

    Words come most frequent first, ties in order of first appearance (as in WordTokenizer).
    """
    sentences = split_sentences(texts)
    counts = Counter(token for sentence in sentences for token in sentence)
    if not counts:
        raise DataError(
            f"cannot train word2vec on an empty corpus (received {len(sentences)} texts with "
            f"no words). Fix: pass a list of non-empty strings or lists of tokens."
        )
    top_word, top_count = counts.most_common(1)[0]
    if top_count < settings["min_count"]:
        raise ConfigError(
            f"min_count={settings['min_count']} leaves no word to train: the most frequent word, "
            f"{top_word!r}, appears {top_count} times. Fix: set min_count to at most "
            f"{top_count}, or pass more text."
        )
    try:
        from gensim.models import Word2Vec as GensimWord2Vec
    except ImportError as error:
        raise ConfigError(
            "Word2Vec.fit needs gensim, which trains the vectors. Fix: pip install gensim"
        ) from error
    trained = GensimWord2Vec(
        sentences,
        vector_size=settings["vector_size"],
        window=settings["window"],
        min_count=settings["min_count"],
        sg=int(settings["architecture"] == "skipgram"),
        hs=0,  # negative sampling only
        negative=settings["negative"],
        ns_exponent=0.75,
        epochs=settings["epochs"],
        seed=settings["seed"],
        sample=settings["sample"],
        workers=settings["workers"],
    )
    # gensim breaks count ties by last appearance; use WordTokenizer's order (first appearance).
    first_seen = {word: position for position, word in enumerate(counts)}
    words = sorted(trained.wv.index_to_key, key=lambda word: (-counts[word], first_seen[word]))
    rows = torch.tensor([trained.wv.key_to_index[word] for word in words], dtype=torch.long)
    vectors = torch.from_numpy(trained.wv.vectors)[rows].contiguous()  # (V, D) float32
    return words, [counts[word] for word in words], vectors
