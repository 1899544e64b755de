"""DeepBeliefNetwork: greedy pretraining on the engine, the MLP it becomes, and bad inputs."""

import pytest
import torch

import ember
from ember.errors import ConfigError, DataError, ShapeError
from ember.models.dbn import DeepBeliefNetwork
from ember.tasks.contrastive_divergence import ContrastiveDivergence

PROTOTYPES = torch.tensor(
    [
        [1, 1, 1, 1, 0, 0, 0, 0, 1, 0, 1, 0, 1, 1, 0, 0],
        [0, 0, 0, 0, 1, 1, 1, 1, 0, 1, 0, 1, 0, 0, 1, 1],
        [1, 0, 1, 0, 1, 0, 1, 0, 0, 0, 1, 1, 1, 1, 1, 1],
    ],
    dtype=torch.float32,
)


def images(n=96, seed=0):
    """Noisy 4x4x1 images of three prototypes, and their classes."""
    generator = torch.Generator().manual_seed(seed)
    labels = torch.randint(0, 3, (n,), generator=generator)
    flips = torch.bernoulli(torch.full((n, 16), 0.05), generator=generator)
    return (PROTOTYPES[labels] - flips).abs().view(n, 4, 4, 1), labels


def test_pretrain_trains_each_rbm_on_the_hidden_probabilities_of_the_one_below():
    x, _ = images()
    ember.set_seed(0)
    dbn = DeepBeliefNetwork(16, hidden=(8, 4))
    histories = dbn.pretrain(x, epochs=20, batch_size=16, verbose=0, device="cpu")
    assert len(histories) == 2
    for history in histories:
        reconstruction = history.history["reconstruction"]
        assert len(reconstruction) == 20
        assert reconstruction[-1] < reconstruction[0]
    # The same greedy procedure by hand, on the engine, from the same seed: same weights.
    ember.set_seed(0)
    by_hand = DeepBeliefNetwork(16, hidden=(8, 4))
    data = x
    for rbm in by_hand.rbms:
        optimizer = ember.optimizers.SGD(0.1, momentum=0.5)
        trainer = ember.Trainer(ContrastiveDivergence(rbm), optimizer, epochs=20, device="cpu")
        trainer.fit(data, batch_size=16, verbose=0)
        data = rbm(data).detach()
    for a, b in zip(dbn.parameters(), by_hand.parameters()):
        torch.testing.assert_close(a, b)


def test_to_classifier_copies_the_weights_exactly():
    ember.set_seed(0)
    dbn = DeepBeliefNetwork(16, hidden=(8, 4))
    x, _ = images(10)
    dbn.pretrain(x, epochs=2, batch_size=5, verbose=0, device="cpu")
    model = dbn.to_classifier(3)
    flatten, first, second, head = model.layers
    for dense, rbm in zip((first, second), dbn.rbms):
        assert torch.equal(dense.weight, rbm.weight)
        assert torch.equal(dense.bias, rbm.hidden_bias)
    with torch.no_grad():
        hidden = first(flatten(x))
        assert torch.equal(hidden, dbn.rbms[0].hidden_probabilities(x))
        assert torch.equal(second(hidden), dbn(x))
        assert model(x).shape == (10, 3)
        torch.testing.assert_close(model(x).sum(1), torch.ones(10))
    assert head.weight.shape == (3, 4)
    # Copies, not shared tensors: fine-tuning leaves the DBN as it was.
    assert first.weight.data_ptr() != dbn.rbms[0].weight.data_ptr()


def test_the_classifier_fine_tunes_on_the_engine():
    x, y = images(96)
    ember.set_seed(0)
    dbn = DeepBeliefNetwork(16, hidden=(12, 8))
    dbn.pretrain(x, epochs=10, batch_size=16, verbose=0, device="cpu")
    pretrained = dbn.rbms[0].weight.detach().clone()
    model = dbn.to_classifier(3)  # takes the 4x4x1 images pretrain saw
    model.compile(
        optimizer=ember.optimizers.Adam(0.05),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
        device="cpu",
    )
    history = model.fit(x, y, epochs=15, batch_size=16, verbose=0)
    assert history.history["accuracy"][-1] >= 0.95
    assert torch.equal(dbn.rbms[0].weight, pretrained)


def test_to_classifier_without_pretraining_takes_vectors_or_a_given_shape():
    dbn = DeepBeliefNetwork(16, hidden=8)
    assert dbn.to_classifier(2)(torch.rand(3, 16)).shape == (3, 2)
    assert dbn.to_classifier(2, input_shape=(4, 4, 1))(torch.rand(3, 4, 4, 1)).shape == (3, 2)
    with pytest.raises(ShapeError, match=r"input_shape=\(5, 5\) holds 25 values.*16 visible"):
        dbn.to_classifier(2, input_shape=(5, 5))
    with pytest.raises(ConfigError, match="num_classes=1"):
        dbn.to_classifier(1)


@pytest.mark.parametrize(
    "visible, hidden, match",
    [
        (16, (), "hidden=()"),
        (16, (8, 0), r"hidden=\(8, 0\)"),
        (16, -2, "hidden=-2"),
        (0, (8,), "visible=0"),
    ],
)
def test_bad_sizes_are_config_errors(visible, hidden, match):
    with pytest.raises(ConfigError, match=match):
        DeepBeliefNetwork(visible, hidden)


@pytest.mark.parametrize(
    "x, options, error, match",
    [
        (images(8)[0] * 255, {}, DataError, "divide by 255"),
        (torch.rand(8, 3, 3), {}, ShapeError, r"16 visible units.*9 values per sample"),
        (images(8)[0], {"k": 0}, ConfigError, "k=0"),
    ],
)
def test_bad_pretraining_inputs_fail_before_any_rbm_trains(x, options, error, match):
    dbn = DeepBeliefNetwork(16, hidden=(8, 4))
    before = [p.detach().clone() for p in dbn.parameters()]
    with pytest.raises(error, match=match):
        dbn.pretrain(x, epochs=1, verbose=0, device="cpu", **options)
    assert all(torch.equal(a, b) for a, b in zip(dbn.parameters(), before))
