"""``Bidirectional``: runs a recurrent layer forwards and a copy backwards, and merges them.

Example:
    >>> import torch
    >>> from ember.layers.recurrent import LSTM
    >>> Bidirectional(LSTM(8, return_sequences=True))(torch.randn(2, 5, 3)).shape
    torch.Size([2, 5, 16])
"""

from __future__ import annotations

from typing import Any

import torch

from ember.errors import ConfigError, ShapeError
from ember.layers.base import Layer
from ember.layers.config_values import deserialize_value
from ember.layers.recurrent_base import Shape, _expect_sequences, _Recurrent
from ember.layers.registry import LAYERS

MERGE_MODES = ("concat", "sum", "mul", "ave", None)


@LAYERS.register()
class Bidirectional(Layer):
    """Keras' ``Bidirectional`` wrapper for ``SimpleRNN``, ``LSTM`` and ``GRU``.

    ``layer`` runs over the sequence as given; ``backward_layer`` (by default a fresh copy of
    ``layer`` with ``go_backwards`` flipped, under ``backward_layer``) runs over it reversed. With
    ``return_sequences`` the backward outputs are reversed back so that step ``t`` of both
    directions lines up, then the two are merged: ``"concat"`` on the last axis, ``"sum"``,
    ``"mul"``, ``"ave"`` (the mean), or ``None`` for the tuple ``(forward, backward)``. With
    ``return_state`` it returns ``(output, *forward_states, *backward_states)``; ``initial_state``
    takes the forward states, then the backward ones. A mask reaches both directions; padded steps
    of the merged sequence are zeros (Keras sets both layers' ``zero_output_for_mask``).

    The weights live in ``forward_layer`` and ``backward_layer``. ``get_config`` stores both
    layers as ``{"class_name": ..., "config": ...}``, from which the constructor also builds them.

    Example:
        >>> import torch
        >>> from ember.layers.recurrent import GRU
        >>> layer = Bidirectional(GRU(4), merge_mode="sum")
        >>> layer(torch.randn(2, 5, 3)).shape
        torch.Size([2, 4])
    """

    uses_mask = True

    def __init__(
        self,
        layer: _Recurrent | dict[str, Any],
        merge_mode: str | None = "concat",
        backward_layer: _Recurrent | dict[str, Any] | None = None,
        input_shape: Shape | None = None,
        name: str | None = None,
    ) -> None:
        super().__init__(input_shape=input_shape, name=name)
        if merge_mode not in MERGE_MODES:
            raise ConfigError(
                f"expected merge_mode to be one of {MERGE_MODES}, received merge_mode={merge_mode!r}"
            )
        self.merge_mode = merge_mode
        self.forward_layer = _recurrent_layer("layer", layer)
        if backward_layer is None:
            config = self.forward_layer.get_config()
            config["go_backwards"] = not self.forward_layer.go_backwards
            config["name"] = (
                f"backward_{self.forward_layer.name}" if self.forward_layer.name else None
            )
            backward_layer = type(self.forward_layer)(**config)
        self.backward_layer = _recurrent_layer("backward_layer", backward_layer)
        _check_pair(self.forward_layer, self.backward_layer)
        self.return_sequences = self.forward_layer.return_sequences
        for direction in (self.forward_layer, self.backward_layer):  # as Keras does
            direction.zero_output_for_mask = self.return_sequences
        self.return_state = self.forward_layer.return_state
        self.stateful = self.forward_layer.stateful
        if self.input_shape is None and self.forward_layer.input_shape is not None:
            self.input_shape = (
                self.forward_layer.input_shape
            )  # Bidirectional(LSTM(8, input_shape=...))

    def build(self, input_shape: Shape) -> None:
        _expect_sequences(
            self, (None, *input_shape)
        )  # the wrapped layers build on their first call

    def call(
        self,
        x: torch.Tensor,
        mask: torch.Tensor | None = None,
        initial_state: list[torch.Tensor] | None = None,
    ) -> torch.Tensor | tuple[torch.Tensor, ...]:
        """``x`` ``(N, T, features)``; ``mask`` ``(N, T)``; ``initial_state`` forward then backward."""
        forward_state = backward_state = None
        if initial_state is not None:
            count = len(self.forward_layer.state_names)
            if len(initial_state) != 2 * count:
                raise ShapeError(
                    f"Bidirectional({type(self.forward_layer).__name__}) takes initial_state as "
                    f"{2 * count} tensors (forward, then backward states), received "
                    f"{len(initial_state)}. Fix: pass [{', '.join(self.forward_layer.state_names * 2)}]."
                )
            forward_state, backward_state = initial_state[:count], initial_state[count:]
        forward = self.forward_layer(x, mask=mask, initial_state=forward_state)
        backward = self.backward_layer(x, mask=mask, initial_state=backward_state)
        states: tuple[torch.Tensor, ...] = ()
        if self.return_state:
            (forward, *forward_states), (backward, *backward_states) = forward, backward
            states = (*forward_states, *backward_states)
        if self.return_sequences:
            backward = backward.flip(1)  # (N, T, units): back in the forward layer's step order
        output = _merge(self.merge_mode, forward, backward)
        if not self.return_state:
            return output
        return (*output, *states) if self.merge_mode is None else (output, *states)

    def compute_mask(
        self, x: torch.Tensor, mask: torch.Tensor | None = None
    ) -> torch.Tensor | None:
        """The mask of the merged output sequence (as the forward layer's), or None."""
        return self.forward_layer.compute_mask(x, mask)

    @property
    def states(self) -> tuple[torch.Tensor, ...] | None:
        """The kept states, forward then backward (``stateful=True``), or None."""
        forward, backward = self.forward_layer.states, self.backward_layer.states
        return None if forward is None or backward is None else (*forward, *backward)

    def reset_states(self) -> None:
        """Forget both directions' kept states."""
        self.forward_layer.reset_states()
        self.backward_layer.reset_states()

    def get_config(self) -> dict[str, Any]:
        """Constructor arguments, the wrapped layers as ``{"class_name", "config"}`` dicts."""
        config = super().get_config()
        config["layer"] = _layer_spec(self.forward_layer)
        if config["backward_layer"] is not None:  # else rebuilt as a copy, as it was made
            config["backward_layer"] = _layer_spec(self.backward_layer)
        return config

    def extra_repr(self) -> str:
        return f"merge_mode={self.merge_mode!r}"


def _merge(mode: str | None, forward: torch.Tensor, backward: torch.Tensor) -> Any:
    if mode == "concat":
        return torch.cat([forward, backward], dim=-1)
    if mode == "sum":
        return forward + backward
    if mode == "mul":
        return forward * backward
    if mode == "ave":
        return (forward + backward) / 2
    return forward, backward


def _layer_spec(layer: Layer) -> dict[str, Any]:
    return {"class_name": type(layer).__name__, "config": layer.get_config()}


def _recurrent_layer(argument: str, value: Any) -> _Recurrent:
    """``value`` itself, or the layer its ``{"class_name", "config"}`` dict describes."""
    if isinstance(value, dict) and set(value) == {"class_name", "config"}:
        cls = LAYERS.get(value["class_name"])  # SimpleRNN, LSTM, GRU or a registered subclass
        value = cls(**{key: deserialize_value(item) for key, item in value["config"].items()})
    if not isinstance(value, _Recurrent):
        raise ConfigError(
            f"expected a recurrent layer (SimpleRNN, LSTM or GRU), received {argument}={value!r}"
        )
    return value


def _check_pair(forward: _Recurrent, backward: _Recurrent) -> None:
    if forward.go_backwards == backward.go_backwards:
        raise ConfigError(
            f"expected backward_layer.go_backwards={not forward.go_backwards} (the opposite of "
            f"layer's), received backward_layer.go_backwards={backward.go_backwards}"
        )
    for attribute in ("return_sequences", "return_state", "stateful"):
        if getattr(forward, attribute) != getattr(backward, attribute):
            raise ConfigError(
                f"expected backward_layer.{attribute}={getattr(forward, attribute)} (as layer's), "
                f"received backward_layer.{attribute}={getattr(backward, attribute)}"
            )
    if type(forward) is not type(backward) and forward.state_names != backward.state_names:
        raise ConfigError(
            f"expected a backward_layer with the same states as layer "
            f"({type(forward).__name__}), received backward_layer={type(backward).__name__}"
        )
