"""ember's version, as installed (read from the package metadata, never written twice).

Saved model configs and run folders record it.

Example:
    >>> from ember.version import __version__
    >>> __version__.count(".") >= 2
    True
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("ember")
except PackageNotFoundError:  # a source tree on sys.path that was never installed
    __version__ = "0.0.0+unknown"
