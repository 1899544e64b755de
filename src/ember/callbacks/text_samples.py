"""SampleText: after each epoch, let a language model continue a prompt, and log the text."""

from __future__ import annotations

from typing import Any

from ember.nlp.generation import generate
from ember.nlp.sampling import check_sampling
from ember.train.callback import Callback, Logs


class SampleText(Callback):
    """Adds ``logs["sample"]``: the prompt continued by the model being trained.

    The progress bar prints it under the epoch's line, the run's ``metrics.jsonl`` keeps it and
    the report shows one sample per epoch. Sampling uses its own seeded generator, so it never
    changes the training's random numbers (a resumed run stays exact).

    Args:
        tokenizer: turns the prompt into ids and the ids back into text.
        prompt: the text to continue.
        length: how many tokens to generate.
        temperature, top_k, top_p: see :func:`ember.nlp.sampling.sample_next`.
        seed: the sampling seed (the same each epoch, so samples differ only by the model).

    Example:
        >>> from ember.nlp import CharTokenizer
        >>> tokenizer = CharTokenizer().fit(["Call me Ishmael."])
        >>> callback = SampleText(tokenizer, "Call me", length=40, temperature=0.8)
    """

    def __init__(
        self,
        tokenizer: Any,
        prompt: str,
        length: int = 200,
        *,
        temperature: float = 0.8,
        top_k: int | None = None,
        top_p: float | None = None,
        seed: int = 0,
    ) -> None:
        check_sampling(temperature, top_k, top_p)
        self.tokenizer = tokenizer
        self.prompt = prompt
        self.prompt_ids = tokenizer.encode(prompt)  # a character never seen fails here, early
        self.length = length
        self.sampling = {"temperature": temperature, "top_k": top_k, "top_p": top_p}
        self.seed = seed

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        if logs is None:
            return
        network = self.trainer.model
        tokens = generate(
            network, self.prompt_ids, self.length, seed=self.seed, suppress=[0], **self.sampling
        )  # id 0 is padding in every ember tokenizer: never a next token
        logs["sample"] = self.prompt + self.tokenizer.decode(list(tokens))
