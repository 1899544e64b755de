"""The language-modelling task against torch's cross-entropy, and its shape errors."""

import math

import pytest
import torch
import torch.nn.functional as F

from ember.errors import ShapeError
from ember.tasks.language_model import LanguageModel


def tiny_network(vocabulary=7):
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Embedding(vocabulary, 5), torch.nn.Linear(5, vocabulary))


def test_loss_bits_and_accuracy_match_a_hand_computation():
    net = tiny_network()
    ids = torch.randint(0, 7, (3, 9))
    x, y = ids[:, :-1], ids[:, 1:]
    out = LanguageModel(net).training_step((x, y))
    logits = net(x)
    expected = F.cross_entropy(logits.reshape(-1, 7), y.reshape(-1))
    torch.testing.assert_close(out["loss"], expected)
    torch.testing.assert_close(out["bits_per_token"], expected / math.log(2))
    accuracy = (logits.argmax(-1) == y).float().mean()
    torch.testing.assert_close(out["accuracy"], accuracy)


def test_label_smoothing_changes_the_loss_but_not_the_bits():
    net = tiny_network()
    batch = (torch.randint(0, 7, (2, 5)), torch.randint(0, 7, (2, 5)))
    plain = LanguageModel(net).training_step(batch)
    smoothed = LanguageModel(net, label_smoothing=0.1).training_step(batch)
    assert not torch.allclose(plain["loss"], smoothed["loss"])
    torch.testing.assert_close(plain["bits_per_token"], smoothed["bits_per_token"])


def test_trainer_reduces_the_loss_on_a_repeating_sequence():
    import ember

    net = tiny_network(4)
    stream = torch.arange(400) % 4  # 0 1 2 3 0 1 ...: the next token is fully predictable
    windows = stream[:396].view(-1, 9)
    x, y = windows[:, :-1], windows[:, 1:]
    trainer = ember.Trainer(LanguageModel(net), ember.optimizers.Adam(0.05), epochs=30)
    history = trainer.fit((x, y), batch_size=8, verbose=0)
    assert history.history["loss"][-1] < 0.2 * history.history["loss"][0]
    assert history.history["accuracy"][-1] == 1.0


def test_bad_data_shapes_are_explained_before_training():
    task = LanguageModel(tiny_network())
    with pytest.raises(ShapeError, match="integer ids and next ids of one shape"):
        task.setup((torch.zeros(2, 5), torch.zeros(2, 5)), torch.device("cpu"))
    with pytest.raises(ShapeError, match="one shape"):
        task.setup(
            (torch.zeros(2, 5, dtype=torch.long), torch.zeros(2, 4, dtype=torch.long)), "cpu"
        )
    with pytest.raises(ShapeError, match="received one tensor"):
        task.setup((torch.zeros(2, 5, dtype=torch.long),), "cpu")


def test_a_network_without_per_step_outputs_is_explained():
    net = torch.nn.Sequential(torch.nn.Embedding(7, 4), torch.nn.Flatten(), torch.nn.Linear(20, 7))
    task = LanguageModel(net)
    ids = torch.zeros(2, 5, dtype=torch.long)
    with pytest.raises(ShapeError, match="return_sequences=True"):
        task.training_step((ids, ids))
