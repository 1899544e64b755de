"""``ember generate RUN --prompt TEXT``: continue a prompt with a language-model run's network.

The text is printed as it is produced (streaming), after the prompt.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

from ember.errors import ConfigError, RunError
from ember.nlp.generation import generate
from ember.runs import training


def generate_text(
    run: Path,
    prompt: str,
    length: int,
    *,
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
    seed: int | None = None,
    checkpoint: str = "last",
    use_cache: bool = True,
) -> Iterator[str]:
    """Yield the generated text piece by piece (one token each) for ``prompt``."""
    experiment, _ = training.load_experiment(run, checkpoint)
    tokenizer = experiment.tokenizer
    if experiment.evaluation != "language_model" or tokenizer is None:
        raise RunError(
            f"{run} is not a language-model run, so it cannot generate text. "
            f"Fix: pass a run of a textgen-* recipe (see `ember list`)."
        )
    if not prompt:
        raise ConfigError('the prompt is empty. Fix: --prompt "Call me".')
    ids = tokenizer.encode(prompt)  # characters the model never saw raise a DataError here
    for token in generate(
        experiment.network,
        ids,
        length,
        temperature=temperature,
        top_k=top_k,
        top_p=top_p,
        seed=seed,
        use_cache=use_cache,
        suppress=[0],  # id 0 is padding in every ember tokenizer: never a next token
    ):
        yield tokenizer.decode([token])


def print_generation(pieces: Iterator[str], prompt: str, out: TextIO | None = None) -> None:
    """Write the prompt, then each piece as soon as it exists (to ``out``, default stdout)."""
    out = out or sys.stdout  # looked up now: tests and pipes may have replaced sys.stdout
    out.write(prompt)
    out.flush()
    for piece in pieces:
        out.write(piece)
        out.flush()
    out.write("\n")
