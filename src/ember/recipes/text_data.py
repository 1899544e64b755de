"""Text for language-model recipes: a corpus as windows of character ids and their next ids.

The corpus is split by position, not at random: the last ``validation_fraction`` of the text is
held out (so validation text was never seen, not even as overlapping context). Each part is cut
into non-overlapping windows of ``sequence_length + 1`` characters; a window's first
``sequence_length`` ids are the input and its last ``sequence_length`` ids the targets.
"""

from __future__ import annotations

import torch

from ember import datasets
from ember.errors import ConfigError
from ember.nlp import CharTokenizer
from ember.recipes.experiment import DataSplits

# name -> loader returning the corpus as one string
CORPORA = {"moby_dick": lambda: datasets.moby_dick()}


def windows(ids: torch.Tensor, sequence_length: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Non-overlapping ``(inputs, next ids)`` windows, each ``(N, sequence_length)``.

    Example:
        >>> x, y = windows(torch.arange(10), 3)
        >>> x.tolist(), y.tolist()
        ([[0, 1, 2], [3, 4, 5], [6, 7, 8]], [[1, 2, 3], [4, 5, 6], [7, 8, 9]])
    """
    count = (len(ids) - 1) // sequence_length
    if count < 1:
        raise ConfigError(
            f"the text has {len(ids)} tokens, too few for one window of sequence_length="
            f"{sequence_length} plus its next token. Fix: a shorter sequence_length or more text."
        )
    used = count * sequence_length
    inputs = ids[:used].view(count, sequence_length)
    targets = ids[1 : used + 1].view(count, sequence_length)
    return inputs, targets


def load_char_corpus(
    corpus: str | None,
    *,
    sequence_length: int,
    validation_fraction: float,
    text: str | None = None,
    max_characters: int | None = None,
) -> tuple[DataSplits, CharTokenizer]:
    """Windows of a corpus for a character language model, and the tokenizer fitted on it.

    The validation part doubles as the test split (a language model is scored on held-out
    text; there is no third part). ``text`` replaces the named corpus (tests, your own text);
    ``max_characters`` keeps only the start of the corpus (quick tries).
    """
    if text is None:
        if corpus not in CORPORA:
            raise ConfigError(
                f"unknown corpus {corpus!r}. Fix: choose one of {', '.join(sorted(CORPORA))}."
            )
        text = CORPORA[corpus]()
    if max_characters is not None:
        text = text[:max_characters]
    if not 0 < validation_fraction < 1:
        raise ConfigError(
            f"expected a number in (0, 1), received validation_fraction={validation_fraction!r}"
        )
    # Fitted on the whole corpus: a character that first appears in the validation part still
    # has an id (a handful of rare characters; the model simply rarely predicts them).
    tokenizer = CharTokenizer().fit([text])
    ids = torch.tensor(tokenizer.encode(text), dtype=torch.long)
    cut = int(len(ids) * (1 - validation_fraction))
    train = windows(ids[:cut], sequence_length)
    val = windows(ids[cut:], sequence_length)
    data = DataSplits(train, val, val, list(tokenizer.vocabulary), (sequence_length,))
    return data, tokenizer
