"""The shared base of SimpleRNN, LSTM and GRU: shapes, masks, states, dropout, which path runs.

See :mod:`ember.layers.recurrent` for the public layers and what they compute; the step-by-step
paths live in :mod:`ember.layers.recurrent_loop`, masks on the fused kernels in
:mod:`ember.layers.recurrent_masks`.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from ember import checks
from ember.errors import ShapeError
from ember.layers import initializers
from ember.layers.base import Layer
from ember.layers.recurrent_loop import run_steps, scan_steps
from ember.layers.recurrent_masks import packs, run_packed, run_padded

Shape = tuple[int, ...]


def _keep_mask(like: torch.Tensor, size: int, rate: float) -> torch.Tensor:
    """A ``(N, size)`` dropout keep-mask scaled by ``1/(1-rate)``, drawn once per call."""
    keep = torch.empty(like.shape[0], size, dtype=like.dtype, device=like.device)
    return keep.bernoulli_(1 - rate).div_(1 - rate)


class _Recurrent(Layer):
    """What SimpleRNN, LSTM and GRU share: shapes, masks, states, dropout and the two paths."""

    uses_mask = True
    state_names: tuple[str, ...] = ("h",)  # LSTM: ("h", "c")

    def __init__(
        self,
        units: int,
        *,
        kind: str,
        use_bias: bool,
        return_sequences: bool,
        return_state: bool,
        go_backwards: bool,
        stateful: bool,
        dropout: float,
        recurrent_dropout: float,
        zero_output_for_mask: bool,
        input_shape: Shape | None,
        name: str | None,
    ) -> None:
        super().__init__(input_shape=input_shape, name=name)
        self.units = checks.positive_int("units", units)
        self.kind = kind  # "tanh", "relu", "lstm" or "gru": which kernel and which loop step
        self.use_bias = use_bias
        self.return_sequences = return_sequences
        self.return_state = return_state
        self.go_backwards = go_backwards
        self.stateful = stateful
        self.dropout = checks.rate("dropout", dropout)
        self.recurrent_dropout = checks.rate("recurrent_dropout", recurrent_dropout)
        # Keras': a padded step outputs zeros instead of the previous step's output
        self.zero_output_for_mask = zero_output_for_mask
        self.register_module("rnn", None)
        self._states: tuple[torch.Tensor, ...] | None = None  # kept between calls when stateful

    # -- building ---------------------------------------------------------------------------
    def build(self, input_shape: Shape) -> None:
        _expect_sequences(self, (None, *input_shape))
        features = input_shape[-1]
        if self.kind == "lstm":
            rnn: nn.RNNBase = nn.LSTM(features, self.units, bias=self.use_bias, batch_first=True)
        elif self.kind == "gru":
            rnn = nn.GRU(features, self.units, bias=self.use_bias, batch_first=True)
        else:
            rnn = nn.RNN(
                features, self.units, nonlinearity=self.kind, bias=self.use_bias, batch_first=True
            )
        with torch.no_grad():  # Keras' initial values (torch's would be uniform(±1/sqrt(units)))
            initializers.get("glorot_uniform")(rnn.weight_ih_l0)
            initializers.get("orthogonal")(rnn.weight_hh_l0)
            if self.use_bias:
                rnn.bias_ih_l0.zero_()
                rnn.bias_hh_l0.zero_()
                if self.kind == "lstm":  # Keras' unit_forget_bias=True
                    rnn.bias_ih_l0[self.units : 2 * self.units] = 1.0
        self.rnn = rnn

    # -- the computation ----------------------------------------------------------------------
    def call(
        self,
        x: torch.Tensor,
        mask: torch.Tensor | None = None,
        initial_state: torch.Tensor | list[torch.Tensor] | None = None,
    ) -> torch.Tensor | tuple[torch.Tensor, ...]:
        """``x`` ``(N, T, features)``; ``mask`` ``(N, T)`` True at real steps; ``initial_state``
        a list of ``(N, units)`` tensors (LSTM: ``[h, c]``)."""
        _expect_sequences(self, tuple(x.shape))
        if x.shape[-1] != self.rnn.input_size:
            raise ShapeError(
                f"{self._label()} was built for {self.rnn.input_size} features per step, received "
                f"inputs of shape {tuple(x.shape)}. Fix: feed {self.rnn.input_size} features, or "
                f"use a new layer for the new size."
            )
        states = self._initial_states(x, initial_state)
        if mask is not None:
            mask = self._checked_mask(mask, x)
        if self.go_backwards:  # Keras: process, and return the sequence, in reverse
            x = x.flip(1)
            mask = None if mask is None else mask.flip(1)
        if self.training and self.dropout > 0:
            x = x * _keep_mask(x, x.shape[-1], self.dropout).unsqueeze(1)  # same units every step
        if self._needs_loop():
            keep = None
            if self.training and self.recurrent_dropout > 0:
                keep = _keep_mask(x, self.units, self.recurrent_dropout)
            initial = states or self._zero_states(x)
            outputs, final = run_steps(self.kind, x, mask, initial, self._weights(), keep)
        elif torch.compiler.is_exporting() and self._exports_as_scan(mask):
            initial = states or self._zero_states(x)
            outputs, final = scan_steps(self.kind, x, mask, initial, self._weights())
        else:
            outputs, final = self._run_fused(x, mask, states)
        if self.stateful:
            self._states = tuple(state.detach() for state in final)
        # (N, T, units), or (N, units): with a mask, Keras' last output, which is the final h but
        # for a row without real steps (zeros, where h is the initial state).
        if self.return_sequences:
            output = outputs
        else:
            output = final[0] if mask is None else outputs[:, -1]
        if mask is not None and self.zero_output_for_mask:
            # As Keras: the last output too is zeroed when the last step is padding.
            real = mask if self.return_sequences else mask[:, -1]
            output = torch.where(real.unsqueeze(-1), output, 0.0)
        return (output, *final) if self.return_state else output

    def _needs_loop(self) -> bool:
        """Whether this call must run step by step (the fused kernels have no recurrent dropout)."""
        return self.training and self.recurrent_dropout > 0

    def _exports_as_scan(self, mask: torch.Tensor | None) -> bool:
        """Whether an exported graph needs the scan: torch.export unrolls ``aten.rnn_tanh`` and
        ``aten.rnn_relu`` step by step (fixing the sequence length), and packing, which gives
        an LSTM's ``c`` at each row's last real step, cannot be traced."""
        if self.kind not in ("lstm", "gru"):
            return True
        return mask is not None and self._needs_cell_state()

    def _needs_cell_state(self) -> bool:
        """Whether this call must give an LSTM's final ``c``: returned, or kept for the next."""
        return self.kind == "lstm" and (self.return_state or self.stateful)

    def _weights(self) -> tuple[torch.Tensor | None, ...]:
        return tuple(getattr(self.rnn, f"{n}_l0", None) for n in _WEIGHT_NAMES)

    def _run_fused(
        self, x: torch.Tensor, mask: torch.Tensor | None, states: list[torch.Tensor] | None
    ) -> tuple[torch.Tensor, list[torch.Tensor]]:
        hx = None
        if states is not None:
            hx = tuple(s.unsqueeze(0).contiguous() for s in states)  # (1, N, units) each
            hx = hx if self.kind == "lstm" else hx[0]
        if mask is None:
            outputs, final = self.rnn(x, hx)
            return outputs, self._unpack_states(final)
        # Only packing ends each row's c at its last real step (exported: the scan, above).
        if self._needs_cell_state() or (packs() and not torch.compiler.is_exporting()):
            outputs, final = run_packed(self.rnn, x, mask, hx)
        else:  # faster than packing on CPU (docs/benchmarks.md, issue #19), and traceable
            outputs, h = run_padded(self.rnn, x, mask, hx)
            final = [h]
        # A row without real steps keeps its initial states (the kernel ran over its padding).
        has_steps = mask.any(1, keepdim=True)  # (N, 1)
        initial = states or self._zero_states(x)
        return outputs, [torch.where(has_steps, new, old) for new, old in zip(final, initial)]

    def _unpack_states(self, final: Any) -> list[torch.Tensor]:
        # torch returns h_n (1, N, units), or (h_n, c_n) for an LSTM.
        return [s[0] for s in final] if isinstance(final, tuple) else [final[0]]

    # -- states and masks ---------------------------------------------------------------------
    def _initial_states(
        self, x: torch.Tensor, initial_state: torch.Tensor | list[torch.Tensor] | None
    ) -> list[torch.Tensor] | None:
        batch = x.shape[0]
        if initial_state is not None:
            states = [initial_state] if torch.is_tensor(initial_state) else list(initial_state)
            shapes = [tuple(s.shape) for s in states]
            if shapes != [(batch, self.units)] * len(self.state_names):
                raise ShapeError(
                    f"{self._label()} takes initial_state as [{', '.join(self.state_names)}], "
                    f"each of shape (batch, units) = {(batch, self.units)}, received shapes "
                    f"{shapes}. Fix: pass {len(self.state_names)} tensor(s) of that shape."
                )
            return states
        if self.stateful and self._states is not None:
            stored = self._states[0].shape[0]
            if stored != batch:
                raise ShapeError(
                    f"{self._label()} is stateful and holds states for a batch of {stored}, "
                    f"but received a batch of {batch}. Fix: call reset_states() before a batch "
                    f"of another size, or keep the batch size at {stored}."
                )
            # States kept under inference_mode cannot enter autograd: copy them out of it.
            outside = not torch.is_inference_mode_enabled()
            return [s.clone() if outside and s.is_inference() else s for s in self._states]
        return None

    def _zero_states(self, x: torch.Tensor) -> list[torch.Tensor]:
        return [x.new_zeros(x.shape[0], self.units) for _ in self.state_names]

    def _checked_mask(self, mask: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        if tuple(mask.shape) != tuple(x.shape[:2]):
            raise ShapeError(
                f"{self._label()} needs a mask of shape (batch, steps) = {tuple(x.shape[:2])}, "
                f"received shape {tuple(mask.shape)}. Fix: one True/False per input step."
            )
        return mask.to(device=x.device, dtype=torch.bool)

    @property
    def states(self) -> tuple[torch.Tensor, ...] | None:
        """The states kept for the next batch (``stateful=True``), or None."""
        return self._states

    def reset_states(self) -> None:
        """Forget the kept states: the next batch, of any size, starts from zeros."""
        self._states = None

    def compute_mask(
        self, x: torch.Tensor, mask: torch.Tensor | None = None
    ) -> torch.Tensor | None:
        """The mask of the output sequence (reversed with ``go_backwards``), or None."""
        if mask is None or not self.return_sequences:
            return None
        return mask.flip(1) if self.go_backwards else mask

    def _label(self) -> str:
        return f"{type(self).__name__} {self.name!r}" if self.name else type(self).__name__


_WEIGHT_NAMES = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")


def _expect_sequences(layer: Layer, shape: tuple) -> None:
    if len(shape) != 3:
        raise ShapeError(
            f"{type(layer).__name__} expects inputs of shape (batch, steps, features), received "
            f"shape {shape}. Fix: add the missing axis, e.g. x.unsqueeze(-1) for one feature per "
            f"step, or reshape each sample to (steps, features)."
        )
