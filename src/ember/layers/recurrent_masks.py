"""Masked sequences through torch's fused recurrent kernels, two ways.

A mask marks each row's real steps (padding may be on the right, the left or inside). Both ways
first move each row's real steps to its front, in order, so that the kernel meets them as one
unbroken run from the initial state, then put each output back at its own step, as Keras does:
a padded step repeats the output of the last real step before it, zeros before the first.

- :func:`run_padded` (the default, eager and exported): the kernel runs over the compacted rows
  up to the longest row's length, shorter rows' padding included. A recurrence is causal, so
  the outputs at real steps are those of the real steps alone, and the output at a row's last
  real step is its final ``h``. No tensor is sized from a host list, so ``torch.export`` and
  ONNX keep batch and sequence axes dynamic and ``aten.lstm``/``aten.gru`` whole (ONNX's
  ``LSTM``/``GRU`` operators). The kernel's final states are those after the padding, so only
  ``h`` is returned: an LSTM's ``c`` at the last real step exists nowhere in its outputs.
- :func:`run_packed` (an LSTM whose final ``c`` is needed, eagerly): the compacted rows go
  through ``pack_padded_sequence``, so the kernel stops each row at its length. Packing sizes
  tensors from lengths read on the host, which ``torch.export`` cannot trace; and on this CPU
  it was slower (``sentiment-lstm``: 1.2x at inference, 2.3x for a training step at batch 32).

Example:
    >>> import torch
    >>> rnn = torch.nn.GRU(3, 4, batch_first=True)
    >>> x, mask = torch.randn(2, 5, 3), torch.tensor([[1, 1, 1, 0, 0], [0, 1, 1, 1, 1]]).bool()
    >>> packed_outputs, (packed_h,) = run_packed(rnn, x, mask, None)
    >>> padded_outputs, padded_h = run_padded(rnn, x, mask, None)
    >>> torch.allclose(packed_outputs, padded_outputs, atol=1e-6), torch.allclose(packed_h, padded_h)
    (True, True)
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence


def real_steps_first(mask: torch.Tensor) -> torch.Tensor:
    """``(N, T)`` indices that gather each row's real steps first, in order, then its padded ones.

    Example:
        >>> real_steps_first(torch.tensor([[False, True, False, True]])).tolist()
        [[1, 3, 0, 2]]
    """
    seen = mask.cumsum(1)  # (N, T): real steps up to and including each step
    steps = torch.arange(mask.shape[1], device=mask.device).expand_as(mask)
    # Where each step goes: real step k of a row to position k, padding after the row's length.
    target = torch.where(mask, seen - 1, seen[:, -1:] + steps - seen)
    return torch.zeros_like(target).scatter(1, target, steps)  # the inverse permutation


def spread(compact_outputs: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Outputs of the compacted rows ``(N, T, units)`` back at each step's own position: a padded
    step repeats the last real output before it, zeros come before the first."""
    seen = mask.cumsum(1)  # (N, T)
    # Sized from the mask, not from the outputs: the ONNX exporter gives aten.lstm's outputs
    # the example's fixed length (torch 2.13), and a size taken from them stays fixed.
    latest = (seen - 1).clamp(min=0).unsqueeze(-1).expand(-1, -1, compact_outputs.shape[-1])
    return compact_outputs.gather(1, latest).masked_fill((seen == 0).unsqueeze(-1), 0.0)


def _compact(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    index = real_steps_first(mask).unsqueeze(-1)  # (N, T, 1)
    return x.gather(1, index.expand_as(x))


def run_packed(
    rnn: nn.RNNBase, x: torch.Tensor, mask: torch.Tensor, hx: Any
) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """``rnn`` (``batch_first``) over the real steps only: every step's output ``(N, T, units)``
    and the final states, each ``(N, units)``. A row without real steps runs one padded step
    (packing needs lengths >= 1); the caller puts its initial states back."""
    lengths = mask.sum(1).cpu()  # packing needs the lengths on the host: one sync
    packed = pack_padded_sequence(
        _compact(x, mask), lengths.clamp(min=1), batch_first=True, enforce_sorted=False
    )
    packed_outputs, final = rnn(packed, hx)
    compact_outputs, _ = pad_packed_sequence(
        packed_outputs, batch_first=True, total_length=x.shape[1]
    )
    # torch returns h_n (1, N, units), or (h_n, c_n) for an LSTM.
    states = [s[0] for s in final] if isinstance(final, tuple) else [final[0]]
    return spread(compact_outputs, mask), states


_cut_to_longest = True  # False inside every_step()
_packing = False  # True inside packing()


@contextlib.contextmanager
def packing() -> Iterator[None]:
    """Within it, masked recurrent layers pack their rows eagerly (:func:`run_packed`), as ember
    did before issue #19: to compare the two paths on other hardware (``benchmarks/
    quantize_text.py --masked-paths``). Packing cannot be exported.

    Example:
        >>> from ember.layers import GRU
        >>> layer, x = GRU(4), torch.randn(2, 5, 3)
        >>> mask = torch.tensor([[True] * 5, [True, True, False, False, False]])
        >>> with packing():
        ...     packed = layer(x, mask=mask)
        >>> torch.allclose(layer(x, mask=mask), packed, atol=1e-6)
        True
    """
    global _packing
    _packing = True
    try:
        yield
    finally:
        _packing = False


def packs() -> bool:
    """Whether masked calls pack their rows now (inside :func:`packing`)."""
    return _packing


@contextlib.contextmanager
def every_step() -> Iterator[None]:
    """Within it, :func:`run_padded` runs all ``T`` steps: a graph without a data-dependent
    length, for an exporter that cannot take one (torch 2.13's ONNX exporter fails on a
    ``scan`` traced after one).

    Example:
        >>> rnn = torch.nn.GRU(3, 4, batch_first=True)
        >>> x, mask = torch.randn(1, 6, 3), torch.tensor([[True, True] + [False] * 4])
        >>> with every_step():
        ...     _, every = run_padded(rnn, x, mask, None)
        >>> _, cut = run_padded(rnn, x, mask, None)  # two steps run instead of six
        >>> torch.allclose(every, cut, atol=1e-6)
        True
    """
    global _cut_to_longest
    _cut_to_longest = False
    try:
        yield
    finally:
        _cut_to_longest = True


def run_padded(
    rnn: nn.RNNBase, x: torch.Tensor, mask: torch.Tensor, hx: Any
) -> tuple[torch.Tensor, torch.Tensor]:
    """``rnn`` (``batch_first``) over the compacted rows, traceably: every step's output
    ``(N, T, units)`` and ``h`` at each row's last real step ``(N, units)`` (zeros for a row
    without real steps).

    The compacted rows are cut after the longest row's real steps, so the kernel runs that many
    steps rather than ``T`` (a data-dependent length, which ``torch.export`` and ONNX carry as
    such): right-padded batches of short texts cost what their words cost.
    """
    index = real_steps_first(mask).unsqueeze(-1)  # (N, T, 1)
    if _cut_to_longest:
        longest = mask.sum(1).max().clamp(min=1).item()  # one host sync, as packing has
        torch._check(longest >= 1)  # what torch.export needs to know of a data-dependent size
        torch._check(longest <= x.shape[1])
        index = index[:, :longest]  # (N, longest, 1)
    compact_outputs, _ = rnn(x.gather(1, index.expand(-1, -1, x.shape[-1])), hx)
    outputs = spread(compact_outputs, mask)
    return outputs, outputs[:, -1]
