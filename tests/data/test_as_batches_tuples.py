"""``as_batches`` reads a tuple of arrays as Keras' ``(x,)``, ``(x, y)`` or ``(x, y, weights)``."""

import torch

from ember.data.batches import as_batches
from ember.tasks import Autoencoder
from ember.train import Trainer


def test_a_one_tuple_is_the_inputs_alone_and_pairs_and_triples_unpack():
    x, y, weights = torch.arange(6.0).reshape(3, 2), torch.arange(3), torch.ones(3)
    assert [t.shape for t in as_batches((x,), batch_size=2).tensors] == [(3, 2)]
    assert [t.shape for t in as_batches((x, y), batch_size=2).tensors] == [(3, 2), (3,)]
    triple = as_batches((x, y, weights), batch_size=2).tensors
    assert torch.equal(triple[2], weights)
    paired = as_batches((x, y), batch_size=2, sample_weight=2 * weights).tensors
    assert torch.equal(paired[2], 2 * weights)  # a separate sample_weight is kept


def test_fit_on_a_one_tuple_trains_an_autoencoder_like_the_bare_array():
    torch.manual_seed(0)
    x = torch.rand(64, 4)
    losses = []
    for data in (x, (x,)):
        torch.manual_seed(0)
        network = torch.nn.Sequential(torch.nn.Linear(4, 4))
        trainer = Trainer(Autoencoder(network, loss="mse"), "adam")
        history = trainer.fit(data, epochs=3, batch_size=16, verbose=0)
        losses.append(history.history["loss"])
    assert losses[0] == losses[1]
