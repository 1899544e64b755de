"""ember's errors: every one names the problem and the fix.

All inherit from :class:`EmberError`, so ``except ember.EmberError`` catches anything ember raises
on purpose. Each subclass also inherits the built-in error a Python user would expect
(``ValueError``, ``KeyError``, ``FileNotFoundError`` ...), so existing ``except`` clauses keep working.
"""

from __future__ import annotations


class EmberError(Exception):
    """Base class of every error ember raises on purpose."""


class ConfigError(EmberError, ValueError):
    """A setting, argument or name is invalid (unknown layer, bad keyword value, ...)."""


class UnknownNameError(ConfigError, KeyError):
    """A name looked up in a registry does not exist; the message lists close matches."""

    def __str__(self) -> str:  # KeyError would otherwise wrap the message in quotes
        return str(self.args[0]) if self.args else ""


class DataError(EmberError, ValueError):
    """Input data is unusable: wrong shape, length, dtype, NaN/inf, empty, labels out of range."""


class ShapeError(DataError):
    """A tensor's shape does not match what a layer or model expects."""


class NotCompiledError(EmberError, RuntimeError):
    """``fit``/``evaluate`` was called on a model that has not been compiled."""


class DatasetError(EmberError, OSError):
    """A dataset file is missing, unreadable, truncated or fails its checksum."""


class DatasetNotFoundError(DatasetError, FileNotFoundError):
    """A dataset is not on disk and could not be downloaded; the message says where to put it."""


class ChecksumError(DatasetError):
    """A dataset file's checksum does not match the published one (corrupt or truncated)."""


class WeightsMismatchError(EmberError, ValueError):
    """A weights file does not fit the model: the message lists mismatched keys and shapes."""


class SaveError(EmberError, OSError):
    """A model or weights file could not be written, or the target is not ember's to overwrite."""


class RunError(EmberError, ValueError):
    """A run folder is missing, is not an ember run, or cannot be resumed as asked."""


class CheckpointError(SaveError):
    """A checkpoint could not be written or read; the previous good one is left in place."""


class ExportError(EmberError, RuntimeError):
    """A model could not be exported (an operation the exporter cannot trace, say)."""
