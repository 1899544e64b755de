"""Supervised(batch_transform=...): MixUp/CutMix in training steps only, on soft-target losses."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

import ember
from ember import layers, models
from ember.data import CutMix, MixUp
from ember.errors import ConfigError


def _network(num_classes: int = 3) -> torch.nn.Module:
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(2 * 2 * 1, num_classes))


def _batch(n: int = 8):
    generator = torch.Generator().manual_seed(1)
    images = torch.rand(n, 2, 2, 1, generator=generator)  # (N, H, W, C)
    return images, torch.arange(n) % 3


def _as_probabilities(x, y):
    """A mixing transform with lambda = 1: the images as they are, the labels one-hot."""
    return x, F.one_hot(y, 3).float()


class _Counting:
    """A transform that counts its calls and changes nothing but the label format."""

    num_classes = 3

    def __init__(self):
        self.calls = 0

    def __call__(self, x, y):
        self.calls += 1
        return _as_probabilities(x, y)


@pytest.mark.parametrize(
    ("loss", "from_logits"),
    [
        ("sparse_categorical_crossentropy", True),
        (torch.nn.CrossEntropyLoss(), False),
    ],
)
def test_mixing_with_lambda_one_gives_the_plain_loss(loss, from_logits):
    x, y = _batch()
    plain = ember.Supervised(_network(), loss, from_logits=from_logits)
    mixed = ember.Supervised(
        _network(), loss, from_logits=from_logits, batch_transform=_as_probabilities
    )
    expected = plain.training_step((x, y))["loss"]
    received = mixed.training_step((x, y))["loss"]
    # Probability targets take another torch kernel than class indices: equal to float rounding.
    torch.testing.assert_close(received, expected, rtol=1e-6, atol=0)


def test_seeded_mixup_loss_is_the_lambda_weighted_cross_entropy_of_both_labels():
    x, y = _batch()
    network = _network()
    task = ember.Supervised(
        network,
        "sparse_categorical_crossentropy",
        from_logits=True,
        batch_transform=MixUp(alpha=1.0, num_classes=3),
    )
    torch.manual_seed(42)
    loss = task.training_step((x, y))["loss"]
    # By hand: torchvision draws lam ~ Beta(alpha, alpha) once and pairs each sample with the
    # one before it (roll by 1).
    torch.manual_seed(42)
    lam = float(torch.distributions.Beta(torch.tensor([1.0]), torch.tensor([1.0])).sample(()))
    outputs = network(lam * x + (1 - lam) * x.roll(1, 0))
    expected = lam * F.cross_entropy(outputs, y) + (1 - lam) * F.cross_entropy(outputs, y.roll(1))
    assert 0 < lam < 1
    torch.testing.assert_close(loss, expected)


def test_seeded_cutmix_with_label_smoothing_matches_torch():
    x, y = _batch()
    network = _network()
    task = ember.Supervised(
        network,
        torch.nn.CrossEntropyLoss(label_smoothing=0.1),
        batch_transform=CutMix(num_classes=3),
    )
    torch.manual_seed(5)
    loss = task.training_step((x, y))["loss"]
    torch.manual_seed(5)
    mixed, probabilities = CutMix(num_classes=3)(x, y)
    expected = F.cross_entropy(network(mixed), probabilities, label_smoothing=0.1)
    torch.testing.assert_close(loss, expected)


def test_validation_and_prediction_never_transform_the_batch():
    x, y = _batch()
    transform = _Counting()
    task = ember.Supervised(
        _network(), "sparse_categorical_crossentropy", from_logits=True, batch_transform=transform
    )
    trainer = ember.Trainer(task, "sgd", device="cpu")
    history = trainer.fit((x, y), (x, y), epochs=2, batch_size=4, verbose=0)
    assert transform.calls == 4  # 2 epochs of 2 training batches; none of the 4 validation ones
    trainer.evaluate((x, y), verbose=0)
    trainer.predict((x,))
    assert transform.calls == 4
    plain = ember.Supervised(task.module, "sparse_categorical_crossentropy", from_logits=True)
    with torch.no_grad():
        expected = plain.validation_step((x, y))["loss"]
    assert trainer.evaluate((x, y), verbose=0)["loss"] == pytest.approx(float(expected))
    assert len(history.history["val_loss"]) == 2


def test_training_metrics_compare_with_the_mixed_labels_top_class():
    x, y = _batch()
    network = _network()
    with torch.no_grad():
        predicted = network(x).argmax(-1)

    def towards_prediction(images, labels):  # soft labels whose top class is the prediction
        return images, 0.4 * F.one_hot(labels, 3).float() + 0.6 * F.one_hot(predicted, 3).float()

    task = ember.Supervised(
        network,
        "sparse_categorical_crossentropy",
        ["accuracy"],
        from_logits=True,
        batch_transform=towards_prediction,
    )
    task.setup((x, y), torch.device("cpu"))
    task.training_step((x, y))
    assert task.metrics.compute()["accuracy"] == pytest.approx(1.0)
    assert float((predicted == y).float().mean()) < 1.0  # the unmixed labels would score less


def test_mixup_training_still_learns_separable_images():
    ember.set_seed(0)
    generator = torch.Generator().manual_seed(0)
    y = torch.randint(0, 3, (300,), generator=generator)
    patterns = torch.eye(3).repeat_interleave(4, dim=1).view(3, 3, 4, 1)  # one bright row each
    x = patterns[y] + 0.3 * torch.randn(300, 3, 4, 1, generator=generator)  # (N, H, W, C)
    model = models.Sequential(
        [layers.Flatten(input_shape=(3, 4, 1)), layers.Dense(3, activation="softmax")]
    )
    model.compile(
        optimizer=ember.optimizers.Adam(learning_rate=0.05),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
        device="cpu",
        batch_transform=MixUp(num_classes=3),
    )
    history = model.fit(x, y, epochs=2, batch_size=16, verbose=0)
    assert sorted(history.history) == ["accuracy", "loss"]
    loss, accuracy = model.evaluate(x, y, verbose=0)
    assert accuracy > 0.95
    assert history.history["loss"][-1] > loss  # mixed labels are uncertain: a higher loss


@pytest.mark.parametrize(
    "loss", ["binary_crossentropy", "hinge", torch.nn.NLLLoss(), torch.nn.BCEWithLogitsLoss()]
)
def test_losses_that_cannot_take_class_probabilities_fail_at_construction(loss):
    with pytest.raises(
        ConfigError, match="loss .* cannot take. Fix: use a multiclass cross-entropy"
    ):
        ember.Supervised(_network(), loss, batch_transform=MixUp(num_classes=3))


def test_a_transform_that_is_not_callable_fails_at_construction():
    with pytest.raises(ConfigError, match="received batch_transform='mixup'"):
        ember.Supervised(_network(), "sparse_categorical_crossentropy", batch_transform="mixup")


def test_num_classes_must_match_the_models_outputs_before_training():
    x, y = _batch()
    task = ember.Supervised(
        _network(3), "sparse_categorical_crossentropy", batch_transform=MixUp(num_classes=10)
    )
    with pytest.raises(ConfigError, match="into 10 classes, but the model has 3 outputs"):
        task.setup((x, y), torch.device("cpu"))


def test_setup_checks_the_labels_before_mixing():
    x, _ = _batch()
    task = ember.Supervised(
        _network(3), "sparse_categorical_crossentropy", batch_transform=MixUp(num_classes=3)
    )
    with pytest.raises(ember.DataError, match="integer class labels in \\[0, 3\\)"):
        task.setup((x, torch.full((8,), 5)), torch.device("cpu"))
