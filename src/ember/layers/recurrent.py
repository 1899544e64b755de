"""Recurrent layers: SimpleRNN, LSTM and GRU, Keras-style, on PyTorch's fused kernels.

Each layer owns a one-layer ``nn.RNN``/``nn.LSTM``/``nn.GRU`` (``batch_first``), created on the first
call from the input's feature size, as ``layer.rnn``. Its parameters keep PyTorch's names and
layout, so weights move to and from plain PyTorch unchanged: ``rnn.weight_ih_l0`` ``(G*units,
features)``, ``rnn.weight_hh_l0`` ``(G*units, units)``, ``rnn.bias_ih_l0`` and ``rnn.bias_hh_l0``
``(G*units,)``, with the gate blocks stacked in PyTorch's order (LSTM ``i, f, g, o``, G=4; GRU
``r, z, n``, G=3; SimpleRNN G=1). They are initialised as Keras does: glorot-uniform input
weights, orthogonal recurrent weights, zero biases, and (LSTM) a forget-gate bias of 1. Keras'
LSTM and SimpleRNN have one bias where PyTorch has two, so they count ``G*units`` parameters
fewer; the GRU (Keras' ``reset_after=True``, with two biases too) counts the same.
``get_weights``/``set_weights`` speak Keras' layout (see :mod:`ember.layers.keras_weights`).

Paths:

- the fused kernel runs every call except training with ``recurrent_dropout > 0``, which
  :func:`~ember.layers.recurrent_loop.run_steps` computes one step at a time with the same math;
- a mask (``Embedding(mask_zero=True)``, or ``mask=`` given directly) is handled on the fused path
  by moving each row's real steps to its front, in order (nothing moves for right padding), and
  running the kernel up to the longest row's length; each row's outputs are read back at its
  own steps (:mod:`ember.layers.recurrent_masks`). Padded steps, left, right or inside, never
  change a result (the longest length is read on the host: one sync per masked call). This
  traces with ``torch.export`` and ONNX; only an LSTM whose final ``c`` is returned or kept
  (``return_state``, ``stateful``) packs its rows with ``pack_padded_sequence`` instead, and is
  exported as a ``scan``, as is SimpleRNN. As in Keras, a padded step repeats the previous
  step's output (zeros before any real step), or outputs zeros with
  ``zero_output_for_mask=True``. A row without real steps keeps its initial state.

``dropout`` drops input features and ``recurrent_dropout`` units of ``h`` (in the recurrent
product only), each with one mask per sequence, the same at every step, as Keras does.
``stateful=True`` starts each batch from the previous batch's final states (detached);
``reset_states()`` goes back to zeros.

Example:
    >>> import torch
    >>> LSTM(8)(torch.randn(2, 5, 3)).shape
    torch.Size([2, 8])
"""

from __future__ import annotations

from typing import Any

from ember.errors import ConfigError
from ember.layers.recurrent_base import Shape, _Recurrent
from ember.layers.registry import LAYERS


def _fixed(layer: str, name: str, value: Any, expected: str) -> None:
    if not isinstance(value, str) or value != expected:
        raise ConfigError(
            f"expected {name}={expected!r} (the only one torch's fused {layer} kernel computes), "
            f"received {name}={value!r}"
        )


@LAYERS.register()
class SimpleRNN(_Recurrent):
    """A fully connected recurrent layer: ``h = activation(W x + b + U h + c)`` at each step.

    Parameters: ``rnn``, a torch ``nn.RNN`` (see the module docstring for names and layout).
    ``activation`` is ``"tanh"`` or ``"relu"``, the two the fused kernel computes. Returns the
    last output ``(N, units)``, or every step's ``(N, T, units)`` with ``return_sequences``, and
    with ``return_state`` the tuple ``(output, h)``.

    Example:
        >>> import torch
        >>> layer = SimpleRNN(4, return_sequences=True, return_state=True)
        >>> sequence, h = layer(torch.randn(2, 5, 3))
        >>> sequence.shape, h.shape
        (torch.Size([2, 5, 4]), torch.Size([2, 4]))
    """

    def __init__(
        self,
        units: int,
        activation: str = "tanh",
        use_bias: bool = True,
        return_sequences: bool = False,
        return_state: bool = False,
        go_backwards: bool = False,
        stateful: bool = False,
        dropout: float = 0.0,
        recurrent_dropout: float = 0.0,
        zero_output_for_mask: bool = False,
        input_shape: Shape | None = None,
        name: str | None = None,
    ) -> None:
        if activation not in ("tanh", "relu"):
            raise ConfigError(
                f"expected activation='tanh' or 'relu' (those torch's fused RNN kernel computes), "
                f"received activation={activation!r}"
            )
        super().__init__(
            units,
            kind=activation,
            use_bias=use_bias,
            return_sequences=return_sequences,
            return_state=return_state,
            go_backwards=go_backwards,
            stateful=stateful,
            dropout=dropout,
            recurrent_dropout=recurrent_dropout,
            zero_output_for_mask=zero_output_for_mask,
            input_shape=input_shape,
            name=name,
        )


class _GatedRecurrent(_Recurrent):
    """What LSTM and GRU share: Keras' arguments, with the two activations torch's kernel fixes."""

    kind: str  # "lstm" or "gru": which fused kernel and which loop step

    def __init__(
        self,
        units: int,
        activation: str = "tanh",
        recurrent_activation: str = "sigmoid",
        use_bias: bool = True,
        return_sequences: bool = False,
        return_state: bool = False,
        go_backwards: bool = False,
        stateful: bool = False,
        dropout: float = 0.0,
        recurrent_dropout: float = 0.0,
        zero_output_for_mask: bool = False,
        input_shape: Shape | None = None,
        name: str | None = None,
    ) -> None:
        _fixed(self.kind.upper(), "activation", activation, "tanh")
        _fixed(self.kind.upper(), "recurrent_activation", recurrent_activation, "sigmoid")
        super().__init__(
            units,
            kind=self.kind,
            use_bias=use_bias,
            return_sequences=return_sequences,
            return_state=return_state,
            go_backwards=go_backwards,
            stateful=stateful,
            dropout=dropout,
            recurrent_dropout=recurrent_dropout,
            zero_output_for_mask=zero_output_for_mask,
            input_shape=input_shape,
            name=name,
        )


@LAYERS.register()
class LSTM(_GatedRecurrent):
    """Long short-term memory (Hochreiter & Schmidhuber 1997), Keras' ``LSTM``.

    Parameters: ``rnn``, a torch ``nn.LSTM`` (gates ``i, f, g, o``; see the module docstring).
    ``activation``/``recurrent_activation`` must be Keras' defaults ``"tanh"``/``"sigmoid"``, the
    fused kernel's. With ``return_state`` the layer returns ``(output, h, c)``; ``initial_state``
    is ``[h, c]``.

    Example:
        >>> import torch
        >>> layer = LSTM(4, return_state=True)
        >>> output, h, c = layer(torch.randn(2, 5, 3))
        >>> torch.equal(output, h), c.shape
        (True, torch.Size([2, 4]))
    """

    kind = "lstm"
    state_names = ("h", "c")


@LAYERS.register()
class GRU(_GatedRecurrent):
    """Gated recurrent unit (Cho et al. 2014), Keras' ``GRU`` with its default ``reset_after=True``.

    Parameters: ``rnn``, a torch ``nn.GRU`` (gates ``r, z, n``; see the module docstring).
    ``activation``/``recurrent_activation`` must be Keras' defaults ``"tanh"``/``"sigmoid"``.
    With ``return_state`` the layer returns ``(output, h)``.

    Example:
        >>> import torch
        >>> ids = torch.tensor([[5, 2, 0, 0]])  # right-padded with id 0
        >>> layer = GRU(4, return_sequences=True)
        >>> output = layer(torch.randn(1, 4, 3), mask=ids != 0)
        >>> torch.equal(output[0, 3], output[0, 1])  # a padded step repeats the last real output
        True
        >>> GRU(4, return_sequences=True, zero_output_for_mask=True)(
        ...     torch.randn(1, 4, 3), mask=ids != 0)[0, 2:].abs().sum().item()
        0.0
    """

    kind = "gru"
