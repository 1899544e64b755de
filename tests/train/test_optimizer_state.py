"""A fused optimizer restored from a checkpoint continues exactly, channels-last weights included."""

from __future__ import annotations

import torch

from ember.runs.checkpoint import decode_state, encode_state
from ember.train.optimizer_state import load_optimizer_state


def conv_and_adam() -> tuple[torch.nn.Module, torch.optim.Optimizer]:
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3), torch.nn.Flatten(), torch.nn.LazyLinear(2))
    net(torch.randn(1, 3, 6, 6))
    net = net.to(memory_format=torch.channels_last)  # as ember's CNNs run on the CPU
    return net, torch.optim.Adam(net.parameters(), lr=0.01, fused=True)


def step(net: torch.nn.Module, optimizer: torch.optim.Optimizer, seed: int) -> None:
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(4, 3, 6, 6, generator=generator).to(memory_format=torch.channels_last)
    optimizer.zero_grad()
    net(x).square().mean().backward()
    optimizer.step()


def test_a_restored_fused_adam_takes_the_uninterrupted_step():
    reference, reference_adam = conv_and_adam()
    for seed in range(3):
        step(reference, reference_adam, seed)

    net, adam = conv_and_adam()
    for seed in range(2):
        step(net, adam, seed)
    # Through the checkpoint's own encoding, which stores every tensor contiguous.
    tensors, skeleton = encode_state({"optimizer": adam.state_dict()})
    weights = {k: v.contiguous().clone() for k, v in net.state_dict().items()}
    restored, restored_adam = conv_and_adam()
    restored.load_state_dict(weights)
    load_optimizer_state(restored_adam, decode_state(skeleton, tensors)["optimizer"])
    step(restored, restored_adam, 2)
    for got, expected in zip(restored.parameters(), reference.parameters()):
        torch.testing.assert_close(got, expected, rtol=0, atol=0)
