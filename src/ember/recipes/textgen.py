"""``textgen-*``: character-level language models on Moby-Dick, which then write like it.

The network reads ``sequence_length`` characters and predicts, at every position, the next one.
Its loss is the cross-entropy per character in nats (``bits_per_token`` is the same in bits:
bits per character), measured on text it never saw: the last 10% of the book
(``validation_fraction``) after every epoch. There is no test text by default (the run's summary
and report then show none); ``--set test_fraction=0.05`` holds out the 5% before the validation
text and scores it once, when the run ends, at the cost of that much training text. After every epoch the model continues
``sample_prompt``, so the report shows it learning to spell, then to write words, then phrases.

Four recipes share this module and differ in ``model``:

- ``textgen-rnn``: a plain (Elman) RNN. Its gradient through time shrinks at every step (the
  vanishing-gradient problem), which hurts over long spans; over this recipe's 64-character
  windows it still keeps up with the gated cells (see docs/benchmarks.md).
- ``textgen-lstm`` and ``textgen-gru``: gated cells carry information over long spans.
- ``textgen-transformer``: causal self-attention (a small GPT) sees the whole window at once.

    ember train textgen-lstm
    ember generate runs/textgen-lstm-... --prompt "Call me" --length 400 --temperature 0.8
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ember import checks, optimizers
from ember.callbacks import SampleText
from ember.errors import ConfigError
from ember.recipes.config import (
    RecipeConfig,
    check_fields,
    fraction,
    open_fraction,
    positive_int_or_none,
)
from ember.recipes.experiment import Experiment
from ember.recipes.text_data import load_char_corpus
from ember.schedules import OneCycle
from ember.tasks.language_model import LanguageModel
from ember.train import Trainer
from ember.zoo.language_models import RecurrentLanguageModel, TransformerLanguageModel

MODELS = ("rnn", "lstm", "gru", "transformer")


@dataclass
class Config(RecipeConfig):
    corpus: str = "moby_dick"  # which text: moby_dick
    model: Literal["rnn", "lstm", "gru", "transformer"] = "lstm"  # a recurrent cell, or a small GPT
    epochs: int = 10  # passes over the training text
    batch_size: int = 16  # windows per training step (small: many updates in 10 minutes)
    sequence_length: int = 64  # characters the model reads at once (its context)
    embedding_dim: int = 64  # size of each character's vector
    units: int = 512  # hidden size: recurrent units, or the transformer's model width
    layers: int = 1  # recurrent layers, or transformer blocks
    heads: int = 4  # attention heads (transformer only)
    dropout: float = 0.0  # dropout rate between layers
    learning_rate: float = 0.003  # peak of the one-cycle schedule (Adam)
    warmup_fraction: float = 0.1  # share of the steps spent rising to the peak
    weight_decay: float = 0.0  # decoupled weight decay (AdamW)
    clip_norm: float = 1.0  # gradients are rescaled to at most this norm (0: off)
    validation_fraction: float = 0.1  # the last part of the text held out
    test_fraction: float = 0.0  # the text before that held out for a final test (0: no test split)
    max_characters: int | None = None  # use only the start of the corpus (None: all of it)
    sample_prompt: str = "Call me"  # text the model continues after each epoch
    sample_length: int = 200  # characters generated after each epoch
    temperature: float = 0.8  # sampling temperature of the per-epoch sample

    field_checks = {
        "sequence_length": checks.positive_int,
        "embedding_dim": checks.positive_int,
        "units": checks.positive_int,
        "layers": checks.positive_int,
        "heads": checks.positive_int,
        "dropout": checks.rate,
        "learning_rate": checks.positive_number,
        "warmup_fraction": open_fraction,
        "weight_decay": checks.non_negative_number,
        "clip_norm": checks.non_negative_number,
        "validation_fraction": open_fraction,
        "test_fraction": fraction,
        "max_characters": positive_int_or_none,
        "sample_length": checks.positive_int,
        "temperature": checks.non_negative_number,
    }


def check_config(config: Config) -> None:
    """Raise a :class:`ConfigError` naming the field and the fix, before any data is loaded.

    Example:
        >>> check_config(Config(model="transformer", units=100, heads=3))
        Traceback (most recent call last):
        ...
        ember.errors.ConfigError: expected units a multiple of heads=3, received units=100. ...
    """
    check_fields(config)
    if config.model == "transformer" and config.units % config.heads:
        raise ConfigError(
            f"expected units a multiple of heads={config.heads}, received units={config.units}. "
            f"Fix: --set units={config.heads * max(1, config.units // config.heads)}"
        )


def build(config: Config) -> Experiment:
    """Data, model and training set-up for this config."""
    if config.model not in MODELS:
        raise ConfigError(f"expected model in {', '.join(MODELS)}, received model={config.model!r}")
    data, tokenizer = load_char_corpus(
        config.corpus,
        sequence_length=config.sequence_length,
        validation_fraction=config.validation_fraction,
        test_fraction=config.test_fraction,
        max_characters=config.max_characters,
    )
    vocabulary_size = tokenizer.vocabulary_size
    # -- the network: ids (N, T) -> next-character logits (N, T, V) --------------------------
    if config.model == "transformer":
        network = TransformerLanguageModel(
            vocabulary_size,
            context=config.sequence_length,
            dim=config.units,
            num_layers=config.layers,
            num_heads=config.heads,
            dropout=config.dropout,
        )
    else:
        network = RecurrentLanguageModel(
            vocabulary_size,
            embedding_dim=config.embedding_dim,
            units=config.units,
            num_layers=config.layers,
            cell=config.model,
            dropout=config.dropout,
        )
    # -- the optimizer: AdamW on a one-cycle schedule, gradients clipped ---------------------
    schedule = OneCycle(config.learning_rate, pct_start=config.warmup_fraction)
    optimizer = optimizers.AdamW(
        schedule,
        weight_decay=config.weight_decay,
        clipnorm=config.clip_norm or None,
    )
    sample = SampleText(
        tokenizer, config.sample_prompt, config.sample_length, temperature=config.temperature
    )
    trainer = Trainer(
        LanguageModel(network),
        optimizer,
        epochs=config.epochs,
        device=config.device,
        callbacks=[sample],
    )
    return Experiment(
        network=network,
        trainer=trainer,
        data=data,
        batch_size=config.batch_size,
        seed=config.seed,
        evaluation="language_model",
        tokenizer=tokenizer,
    )
