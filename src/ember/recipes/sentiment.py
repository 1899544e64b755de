"""``sentiment-*``: is a film-review snippet fresh or rotten? Three ways to read the words.

Rotten Tomatoes' 12,808 critics' snippets, split 80/10/10 (stratified, from the seed), scored by
accuracy, precision, recall, F1, ROC-AUC and the confusion matrix on the test part.

- ``sentiment-lstm``: a word tokenizer fitted on the training snippets, an embedding learned from
  scratch, a bidirectional LSTM (padding masked), a softmax over the two classes.
- ``sentiment-word2vec``: the same network, its embedding started from word2vec vectors trained
  (skip-gram, negative sampling) on Jane Austen's novels and Moby-Dick: words the snippets
  share with those books begin with a meaning.
- ``sentiment-minilm``: transfer learning from the pretrained MiniLM-L6 sentence encoder. Only
  its top ``trainable_layers`` layers and a linear classifier train; the frozen bottom's outputs
  are computed once for every snippet and cached, so an epoch costs only the top layers.
  ``--set trainable_layers=0`` is pure feature extraction (a linear classifier on frozen
  sentence vectors).

    ember train sentiment-lstm
    ember train sentiment-minilm
    ember compare runs/sentiment-lstm-... runs/sentiment-minilm-...
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ember import checks, datasets, layers, models, optimizers
from ember.errors import ConfigError
from ember.nlp import Word2Vec, WordTokenizer
from ember.nlp.text_inputs import text_encoding
from ember.recipes.config import RecipeConfig
from ember.recipes.experiment import Experiment
from ember.recipes.sentiment_data import TextSplits, load_snippets
from ember.schedules import OneCycle
from ember.tasks import Supervised
from ember.train import Trainer
from ember.zoo.pretrained import load_minilm
from ember.zoo.text_classifier import PretrainedTextClassifier

MODELS = ("lstm", "word2vec", "minilm")
TRUNCATE = "--set truncate=true (or a larger max_length)"


@dataclass
class Config(RecipeConfig):
    corpus: str = "rotten_tomatoes"  # which labelled snippets: rotten_tomatoes
    model: Literal["lstm", "word2vec", "minilm"] = "lstm"  # word2vec/minilm: pretrained
    epochs: int = 4  # passes over the training snippets
    batch_size: int = 32  # snippets per training step
    max_length: int = 80  # tokens per snippet: longer ones are an error unless truncate
    truncate: bool = False  # keep the first max_length tokens of longer snippets
    min_freq: int = 2  # words seen fewer times in the training snippets become [UNK]
    embedding_dim: int = 100  # word vector size (word2vec: the size of the trained vectors)
    units: int = 64  # LSTM units per direction
    dropout: float = 0.5  # dropout on the embeddings and before the classifier
    learning_rate: float = 0.003  # peak of the one-cycle schedule (AdamW)
    weight_decay: float = 0.0001  # decoupled weight decay (AdamW)
    word2vec_epochs: int = 5  # passes of word2vec over the books (sentiment-word2vec)
    freeze_embeddings: bool = False  # keep the word2vec vectors fixed while training
    trainable_layers: int = 2  # MiniLM layers that fine-tune (0: frozen feature extraction)
    train_samples: int | None = None  # train on a stratified subset of this size (None: all)

    field_checks = {
        "max_length": checks.positive_int,
        "min_freq": checks.positive_int,
        "embedding_dim": checks.positive_int,
        "units": checks.positive_int,
        "dropout": checks.rate,
        "learning_rate": checks.positive_number,
        "weight_decay": checks.non_negative_number,
        "word2vec_epochs": checks.positive_int,
        "trainable_layers": checks.non_negative_int,
    }


def build(config: Config) -> Experiment:
    """Data, model and training set-up for this config."""
    if config.model not in MODELS:
        raise ConfigError(f"expected model in {', '.join(MODELS)}, received model={config.model!r}")
    snippets = load_snippets(config.corpus, seed=config.seed, train_samples=config.train_samples)
    num_classes = len(snippets.class_names)
    if config.model == "minilm":
        network, tokenizer, data = _minilm(config, snippets, num_classes)
    else:
        tokenizer = WordTokenizer(min_freq=config.min_freq).fit(snippets.train[0])
        network = _recurrent(config, tokenizer, num_classes)
        encoding = text_encoding(
            network,
            tokenizer,
            length=config.max_length,
            truncation=config.truncate,
            truncation_hint=TRUNCATE,
        )
        data = snippets.encode(encoding.encode)  # too-long snippets fail here, before training
    # -- training: AdamW on a one-cycle schedule, cross-entropy on the logits ------------------
    optimizer = optimizers.AdamW(
        OneCycle(config.learning_rate, pct_start=0.1), weight_decay=config.weight_decay
    )
    task = Supervised(
        network, "sparse_categorical_crossentropy", metrics=["accuracy"], from_logits=True
    )
    trainer = Trainer(task, optimizer, epochs=config.epochs, device=config.device)
    return Experiment(
        network=network,
        trainer=trainer,
        data=data,
        batch_size=config.batch_size,
        seed=config.seed,
        tokenizer=tokenizer,
    )


def _recurrent(config: Config, tokenizer: WordTokenizer, num_classes: int) -> models.Sequential:
    """Embedding, bidirectional LSTM over the real words (id 0 masked), class logits."""
    embedding = layers.Embedding(tokenizer.vocabulary_size, config.embedding_dim, mask_zero=True)
    if config.model == "word2vec":
        books = datasets.jane_austen() + "\n" + datasets.moby_dick()
        vectors = Word2Vec(
            vector_size=config.embedding_dim, epochs=config.word2vec_epochs, seed=config.seed
        ).fit(books)
        vectors.load_into(embedding, tokenizer, trainable=not config.freeze_embeddings)
    return models.Sequential(
        [
            embedding,
            layers.Dropout(config.dropout),
            layers.Bidirectional(layers.LSTM(config.units)),
            layers.Dropout(config.dropout),
            layers.Dense(num_classes),
        ]
    )


def _minilm(config: Config, snippets: TextSplits, num_classes: int):
    """MiniLM with a classifier; the data is the frozen bottom's cached outputs."""
    encoder, tokenizer = load_minilm()
    network = PretrainedTextClassifier(
        encoder, num_classes, trainable_layers=config.trainable_layers, dropout=0.1
    )
    context = encoder.config.max_positions
    if config.max_length > context:
        raise ConfigError(
            f"max_length={config.max_length} exceeds MiniLM's {context} positions. "
            f"Fix: --set max_length={context} or less."
        )
    encoding = text_encoding(
        network,
        tokenizer,
        length=config.max_length,
        truncation=config.truncate,
        truncation_hint=TRUNCATE,
    )

    def features(texts: list[str]):
        return network.frozen_features(encoding.encode(texts))

    return network, tokenizer, snippets.encode(features)
