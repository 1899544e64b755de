"""QuantizationAware: fine-tuning through fake int8 on the engine, then a real int8 network that
computes what the fake-quantized one did."""

from __future__ import annotations

import torch

import ember
from ember.tasks import QuantizationAware


def blobs(count: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    y = torch.randint(0, 3, (count,), generator=generator)
    centres = torch.tensor([[2.0, 0.0, 0.0, 1.0], [0.0, 2.0, 1.0, 0.0], [0.0, 0.0, 2.0, 2.0]])
    return centres[y] + 0.5 * torch.randn(count, 4, generator=generator), y


def test_qat_trains_on_the_engine_and_converts_to_the_int8_it_simulated():
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(4, 32), torch.nn.ReLU(), torch.nn.Linear(32, 3))
    before = {k: v.clone() for k, v in net.state_dict().items()}
    x, y = blobs(512, seed=0)
    task = QuantizationAware(net, x[:4], "sparse_categorical_crossentropy", from_logits=True)
    trainer = ember.Trainer(task, ember.optimizers.Adam(0.01), device="cpu")
    history = trainer.fit((x, y), epochs=4, batch_size=64, verbose=0).history
    assert history["loss"][-1] < 0.5 * history["loss"][0]
    assert history["accuracy"][-1] > 0.9
    for name, value in net.state_dict().items():  # the float network is left as it was
        torch.testing.assert_close(value, before[name])
    int8 = task.convert()
    test_x, test_y = blobs(256, seed=1)
    with torch.no_grad():
        simulated = task.module(test_x)  # fake-quantized forward, eval form
        received = int8(test_x)
    assert (received - simulated).abs().max() < 0.05 * simulated.abs().max()
    assert (received.argmax(1) == test_y).float().mean() > 0.9
