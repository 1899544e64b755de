"""Name -> factory tables, with errors that suggest close matches.

Example:
    >>> from ember.registry import Registry
    >>> shapes = Registry("shape")
    >>> @shapes.register("square", "box")
    ... def square(side=1):
    ...     return side * side
    >>> shapes.get("box")(3)
    9
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable
from typing import Any

from ember.errors import ConfigError, UnknownNameError


def _plural(kind: str) -> str:
    """The English plural of a registry's kind, for messages.

    Example:
        >>> [_plural(kind) for kind in ("loss", "metric", "activation", "box", "policy", "day")]
        ['losses', 'metrics', 'activations', 'boxes', 'policies', 'days']
    """
    if kind.endswith(("s", "x", "z", "ch", "sh")):
        return kind + "es"
    if len(kind) > 1 and kind[-1] == "y" and kind[-2] not in "aeiou":
        return kind[:-1] + "ies"
    return kind + "s"


def _normalise(name: str) -> str:
    # Keras spells names both ways ("sparse_categorical_crossentropy", "SparseCategoricalCrossentropy").
    return name.replace("_", "").replace("-", "").replace(" ", "").lower()


class Registry:
    """A table of named factories (classes or functions) of one kind, e.g. ``"loss"``.

    Lookup ignores case, ``_`` and ``-``, so ``"LeakyReLU"``, ``"leaky_relu"`` and ``"leaky-relu"`` are
    the same entry. An unknown name raises :class:`~ember.errors.UnknownNameError` listing the closest
    known names.
    """

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._entries: dict[str, Any] = {}
        self._display: dict[str, str] = {}

    def register(self, *names: str) -> Callable[[Any], Any]:
        """Decorator registering a factory under one or more names."""

        def decorator(factory: Any) -> Any:
            for name in names or (factory.__name__,):
                self.add(name, factory)
            return factory

        return decorator

    def add(self, name: str, factory: Any) -> None:
        """Register ``factory`` under ``name``."""
        key = _normalise(name)
        self._entries[key] = factory
        self._display.setdefault(key, name)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and _normalise(name) in self._entries

    def names(self) -> list[str]:
        """The registered names, as first spelled, sorted."""
        return sorted(self._display.values())

    def get(self, name: str) -> Any:
        """Return the factory registered under ``name``, or raise listing close matches."""
        if not isinstance(name, str):
            raise UnknownNameError(
                f"expected a {self.kind} name (a string), received {name!r} of type "
                f"{type(name).__name__}"
            )
        key = _normalise(name)
        if key in self._entries:
            return self._entries[key]
        raise UnknownNameError(self.unknown_message(name))

    def from_config(self, spec: dict[str, Any]) -> Any:
        """Build ``{"class_name": ..., "config": {...}}`` (Keras' serialized form).

        Example:
            >>> from ember.layers import regularizers
            >>> regularizers.REGULARIZERS.from_config({"class_name": "L2", "config": {"l2": 0.1}})
            L2(l2=0.1)
        """
        if set(spec) - {"class_name", "config"} or "class_name" not in spec:
            article = "an" if self.kind[0] in "aeiou" else "a"
            raise ConfigError(
                f"{article} {self.kind} dict needs the keys 'class_name' and 'config', received {spec!r}"
            )
        return self.get(spec["class_name"])(**spec.get("config", {}))

    def resolve(self, spec: Any, instance_of: type, expected: str) -> Any:
        """A ``get(spec)`` for objects: None or an instance as is, a name or Keras config dict
        built, any other callable as is; else a :class:`ConfigError` saying what was ``expected``.

        Example:
            >>> from ember.layers import regularizers
            >>> regularizers.REGULARIZERS.resolve("l2", regularizers.Regularizer, "a name")
            L2(l2=0.01)
        """
        if spec is None or isinstance(spec, instance_of):
            return spec
        if isinstance(spec, str):
            return self.get(spec)()
        if isinstance(spec, dict):
            return self.from_config(spec)
        if callable(spec):
            return spec
        article = "an" if self.kind[0] in "aeiou" else "a"
        raise ConfigError(f"{article} {self.kind} must be {expected}, received {spec!r}")

    def unknown_message(self, name: str) -> str:
        """The message for an unknown ``name``: close matches first, then every known name."""
        close = difflib.get_close_matches(_normalise(name), list(self._entries), n=3, cutoff=0.6)
        suggestion = ""
        if close:
            suggestion = " Did you mean " + " or ".join(repr(self._display[c]) for c in close) + "?"
        return (
            f"unknown {self.kind} {name!r}.{suggestion} "
            f"Known {_plural(self.kind)}: {', '.join(self.names())}."
        )

    def items(self) -> Iterable[tuple[str, Any]]:
        """(display name, factory) pairs."""
        return ((self._display[k], v) for k, v in self._entries.items())
