"""Text for language-model recipes: a corpus as windows of character ids and their next ids.

The corpus is split by position, not at random, into parts that share no character::

    |  train  ...  |  test: test_fraction (0: none)  |  validation: the last validation_fraction  |

The last ``validation_fraction`` of the text is the validation text; with a ``test_fraction``,
the text just before it is a test text, scored once when a run ends. Neither was seen in
training, not even as overlapping context. Without one (the default), a run ends with its
validation numbers and shows no test column. Each part is cut into non-overlapping windows of
``sequence_length + 1`` characters; a window's first ``sequence_length`` ids are the input and
its last ``sequence_length`` ids the targets.
"""

from __future__ import annotations

import torch

from ember import checks, datasets
from ember.errors import ConfigError
from ember.nlp import CharTokenizer
from ember.recipes.experiment import DataSplits

# name -> loader returning the corpus as one string
CORPORA = {"moby_dick": lambda: datasets.moby_dick()}


def windows(
    ids: torch.Tensor, sequence_length: int, part: str = "the text"
) -> tuple[torch.Tensor, torch.Tensor]:
    """Non-overlapping ``(inputs, next ids)`` windows, each ``(N, sequence_length)``.

    ``part`` names the ids in the error raised when they are too few for one window.

    Example:
        >>> x, y = windows(torch.arange(10), 3)
        >>> x.tolist(), y.tolist()
        ([[0, 1, 2], [3, 4, 5], [6, 7, 8]], [[1, 2, 3], [4, 5, 6], [7, 8, 9]])
    """
    count = (len(ids) - 1) // sequence_length
    if count < 1:
        raise ConfigError(
            f"{part} has {len(ids)} tokens, too few for one window of sequence_length="
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
    test_fraction: float = 0.0,
    text: str | None = None,
    max_characters: int | None = None,
) -> tuple[DataSplits, CharTokenizer]:
    """Windows of a corpus for a character language model, and the tokenizer fitted on it.

    The splits are parts of the text, in order train, test (when ``test_fraction`` > 0; else
    ``data.test`` is None), validation (see the module's notes). ``text`` replaces the named corpus (tests, your own text); ``max_characters`` keeps
    only the start of the corpus (quick tries).

    Example:
        >>> text = "abcdefghijklmnopqrst"  # 20 characters: train 12, test 4, validation 4
        >>> data, tokenizer = load_char_corpus(
        ...     None, sequence_length=3, validation_fraction=0.2, test_fraction=0.2, text=text
        ... )
        >>> [tokenizer.decode(data.split(name)[0][0].tolist()) for name in ("train", "test", "val")]
        ['abc', 'mno', 'qrs']
    """
    if text is None:
        if corpus not in CORPORA:
            raise ConfigError(
                f"unknown corpus {corpus!r}. Fix: choose one of {', '.join(sorted(CORPORA))}."
            )
        text = CORPORA[corpus]()
    if max_characters is not None:
        text = text[:max_characters]
    checks.number_in("validation_fraction", validation_fraction, 0, 1, closed="()")
    # The test part comes out of the rest: some text must be left to train on.
    checks.number_in("test_fraction", test_fraction, 0, 1 - validation_fraction)
    # Fitted on the whole corpus: a character that first appears in the validation part still
    # has an id (a handful of rare characters; the model simply rarely predicts them).
    tokenizer = CharTokenizer().fit([text])
    ids = torch.tensor(tokenizer.encode(text), dtype=torch.long)
    validation_start = int(len(ids) * (1 - validation_fraction))
    test_start = validation_start - int(len(ids) * test_fraction)
    train = windows(ids[:test_start], sequence_length, "the training part of the text")
    test = None
    if test_fraction:
        test = windows(
            ids[test_start:validation_start], sequence_length, "the test part of the text"
        )
    val = windows(ids[validation_start:], sequence_length, "the validation part of the text")
    data = DataSplits(train, val, test, list(tokenizer.vocabulary), (sequence_length,))
    return data, tokenizer
