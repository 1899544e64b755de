"""The step-by-step path of the recurrent layers: one Python step per time step.

PyTorch's fused kernels (``nn.RNN``/``nn.LSTM``/``nn.GRU``) cannot drop units of the hidden state
between steps, so :class:`~ember.layers.SimpleRNN`, ``LSTM`` and ``GRU`` run this loop, over the same
parameters and with the same math as the kernels, when ``recurrent_dropout`` is active. It also
handles any mask directly (a masked step keeps the state and repeats the previous output), which
makes it the reference the fused path's mask handling is tested against.

:func:`scan_steps` computes the same steps as one ``scan`` (``torch._higher_order_ops.scan``, the
prototype that torch documents as ``torch.scan``): ``torch.export`` captures it as one operator
whatever the number of steps, so the sequence axis stays dynamic, and the ONNX exporter writes it
as ONNX ``Scan``. The recurrent layers use it when exported where the fused kernel cannot serve:
SimpleRNN (``aten.rnn_tanh`` is unrolled step by step when exported) and an LSTM with a mask
whose final ``c`` is returned.

Gate order and formulas are PyTorch's (``W`` = ``weight_ih``, ``U`` = ``weight_hh``, ``b``/``c`` =
``bias_ih``/``bias_hh``; ``h'`` is ``h`` after recurrent dropout, used only for ``U``):

- SimpleRNN: ``h = act(W x + b + U h' + c)``.
- LSTM, gates ``i, f, g, o``: ``c = σ(f) c + σ(i) tanh(g)``; ``h = σ(o) tanh(c)``.
- GRU, gates ``r, z, n``: ``n = tanh(W_n x + b_n + σ(r) (U_n h' + c_n))``; ``h = (1 - σ(z)) n + σ(z) h``
  (Keras' ``reset_after=True`` variant).

Example:
    >>> import torch
    >>> weights = (torch.randn(12, 3), torch.randn(12, 4), None, None)  # 3 gates x 4 units
    >>> outputs, (h,) = run_steps("gru", torch.randn(2, 5, 3), None, [torch.zeros(2, 4)], weights)
    >>> outputs.shape, h.shape
    (torch.Size([2, 5, 4]), torch.Size([2, 4]))
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch._higher_order_ops.scan import scan

# One step: (input projection W x + b, h' for the recurrent product, states, U, c) -> new states.
Step = Callable[
    [torch.Tensor, torch.Tensor, list[torch.Tensor], torch.Tensor, torch.Tensor | None],
    list[torch.Tensor],
]


def _tanh_step(projected, recurrent_h, states, weight_hh, bias_hh):
    return [torch.tanh(projected + F.linear(recurrent_h, weight_hh, bias_hh))]


def _relu_step(projected, recurrent_h, states, weight_hh, bias_hh):
    return [torch.relu(projected + F.linear(recurrent_h, weight_hh, bias_hh))]


def _lstm_step(projected, recurrent_h, states, weight_hh, bias_hh):
    gates = projected + F.linear(recurrent_h, weight_hh, bias_hh)  # (N, 4H)
    input_gate, forget_gate, candidate, output_gate = gates.chunk(4, dim=1)
    cell = torch.sigmoid(forget_gate) * states[1] + torch.sigmoid(input_gate) * torch.tanh(
        candidate
    )
    return [torch.sigmoid(output_gate) * torch.tanh(cell), cell]


def _gru_step(projected, recurrent_h, states, weight_hh, bias_hh):
    input_reset, input_update, input_new = projected.chunk(3, dim=1)  # (N, H) each
    hidden_reset, hidden_update, hidden_new = F.linear(recurrent_h, weight_hh, bias_hh).chunk(3, 1)
    reset = torch.sigmoid(input_reset + hidden_reset)
    update = torch.sigmoid(input_update + hidden_update)
    new = torch.tanh(input_new + reset * hidden_new)
    # The carried state is interpolated with h itself, not the dropped h' (as Keras does).
    return [(1 - update) * new + update * states[0]]


STEPS: dict[str, Step] = {
    "tanh": _tanh_step,
    "relu": _relu_step,
    "lstm": _lstm_step,
    "gru": _gru_step,
}


def run_steps(
    kind: str,
    x: torch.Tensor,
    mask: torch.Tensor | None,
    states: list[torch.Tensor],
    weights: tuple[torch.Tensor, torch.Tensor, torch.Tensor | None, torch.Tensor | None],
    recurrent_keep: torch.Tensor | None = None,
) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """Run a recurrent layer over ``x`` one step at a time.

    Args:
        kind: ``"tanh"`` or ``"relu"`` (SimpleRNN), ``"lstm"`` or ``"gru"``.
        x: ``(N, T, features)`` inputs, already reversed for ``go_backwards``.
        mask: ``(N, T)`` bool, True at real steps, or None. A masked step leaves the states as
            they were and repeats the previous step's output (zeros before any), as Keras does.
        states: the initial states, ``[h]`` or ``[h, c]`` for an LSTM, each ``(N, units)``.
        weights: ``(weight_ih, weight_hh, bias_ih, bias_hh)`` in PyTorch's layout; biases may be None.
        recurrent_keep: ``(N, units)`` scaled keep-mask for recurrent dropout, the same at every
            step (variational dropout, as Keras), or None.

    Returns:
        The outputs ``(N, T, units)`` and the final states.
    """
    weight_ih, weight_hh, bias_ih, bias_hh = weights
    step = STEPS[kind]
    projected = F.linear(x, weight_ih, bias_ih)  # (N, T, G*H): every step's input product at once
    real_steps = None if mask is None else mask.unsqueeze(-1)  # (N, T, 1)
    outputs = []
    for t in range(x.shape[1]):
        h = states[0]
        recurrent_h = h if recurrent_keep is None else h * recurrent_keep
        new_states = step(projected[:, t], recurrent_h, states, weight_hh, bias_hh)
        output = new_states[0]
        if real_steps is not None:
            real = real_steps[:, t]  # (N, 1)
            output = torch.where(real, output, outputs[-1] if outputs else 0.0)
            new_states = [torch.where(real, new, old) for new, old in zip(new_states, states)]
        outputs.append(output)
        states = new_states
    return torch.stack(outputs, dim=1), states


def scan_steps(
    kind: str,
    x: torch.Tensor,
    mask: torch.Tensor | None,
    states: list[torch.Tensor],
    weights: tuple[torch.Tensor, torch.Tensor, torch.Tensor | None, torch.Tensor | None],
) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """:func:`run_steps` without recurrent dropout, as one traceable ``scan`` over the steps.

    Example:
        >>> weights = (torch.randn(4, 3), torch.randn(4, 4), None, None)
        >>> x, mask = torch.randn(2, 5, 3), torch.tensor([[1, 1, 0, 1, 0], [1] * 5]).bool()
        >>> initial = [torch.zeros(2, 4)]
        >>> loop_outputs, (loop_h,) = run_steps("tanh", x, mask, initial, weights)
        >>> scan_outputs, (scan_h,) = scan_steps("tanh", x, mask, initial, weights)
        >>> torch.allclose(loop_outputs, scan_outputs), torch.allclose(loop_h, scan_h)
        (True, True)
    """
    weight_ih, weight_hh, bias_ih, bias_hh = weights
    step = STEPS[kind]
    projected = F.linear(x, weight_ih, bias_ih)  # (N, T, G*H)
    if mask is None:
        mask = torch.ones(x.shape[:2], dtype=torch.bool, device=x.device)

    def combine(carry: list[torch.Tensor], inputs: tuple[torch.Tensor, torch.Tensor]):
        *states, previous = carry  # previous: the last output, zeros before any real step
        projected_step, real = inputs[0], inputs[1].unsqueeze(-1)  # (N, G*H), (N, 1)
        new_states = step(projected_step, states[0], states, weight_hh, bias_hh)
        output = torch.where(real, new_states[0], previous)
        new_states = [torch.where(real, new, old) for new, old in zip(new_states, states)]
        return [*new_states, output], output.clone()  # scan forbids a carry aliasing an output

    zeros = states[0].new_zeros(states[0].shape)
    (*final, _), outputs = scan(combine, [*states, zeros], (projected, mask), dim=1)
    return outputs, final  # outputs (N, T, H): stacked along dim
