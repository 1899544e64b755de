"""The real text corpora, where scripts/install_data.sh put them. Unlike MNIST's tests these SKIP when
the data (or rdata, for Jane Austen) is absent: the fixture tests beside them cover the loaders."""

from __future__ import annotations

import hashlib
import importlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from ember.datasets import jane_austen_books, moby_dick, rotten_tomatoes
from ember.datasets.archives import find_or_fetch
from ember.errors import DatasetNotFoundError

moby_module = importlib.import_module("ember.datasets.moby_dick")
rotten_module = importlib.import_module("ember.datasets.rotten_tomatoes")
austen_module = importlib.import_module("ember.datasets.jane_austen")


def _real(load: Callable[..., Any]) -> Any:
    try:
        return load(download=False)
    except DatasetNotFoundError as error:
        pytest.skip(f"real data not installed (bash scripts/install_data.sh): {error}")


def _real_paths(module: Any, extra_dirs: list[Path] | None = None) -> dict[str, Path]:
    return _real(
        lambda download: find_or_fetch(
            module.NAME, module.ARCHIVE, extra_dirs=extra_dirs or (), download=download
        )
    )


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_real_moby_dick_is_the_whole_book_as_published() -> None:
    text = _real(moby_dick)
    assert len(text) == 1_190_317
    assert text.startswith("CHAPTER 1. Loomings.\n\nCall me Ishmael.")
    assert text.endswith("five thousand years ago.\n")
    path = _real_paths(moby_module)[moby_module.TEXT_FILE]
    assert _sha256(path) == moby_module.TEXT_SHA256


def test_real_rotten_tomatoes_has_the_published_class_counts() -> None:
    data = _real(rotten_tomatoes)
    assert len(data.texts) == len(data.labels) == 12_808
    assert np.bincount(data.labels).tolist() == [5_405, 7_403]  # rotten, fresh
    assert data.texts[0] == "A three-hour cinema master class." and data.labels[0] == 1
    path = _real_paths(rotten_module)[rotten_module.CSV_FILE]
    assert _sha256(path) == rotten_module.CSV_SHA256


def test_real_jane_austen_holds_the_six_novels_line_for_line() -> None:
    pytest.importorskip("rdata", reason="reading R data needs rdata (pip install rdata)")
    books = _real(jane_austen_books)
    lines = {title: text.count("\n") for title, text in books.items()}
    assert lines == {
        "Sense & Sensibility": 12_624,
        "Pride & Prejudice": 13_030,
        "Mansfield Park": 15_349,
        "Emma": 16_235,
        "Northanger Abbey": 7_856,
        "Persuasion": 8_328,
    }
    assert sum(len(text) for text in books.values()) == 4_025_028
    assert books["Emma"].startswith("EMMA\n\nBy Jane Austen\n")
    paths = _real_paths(austen_module, austen_module.R_LIBRARY_DIRS)
    if paths["Rdata.rdb"].parent.name == austen_module.NAME:  # ember's copy, not some R install
        assert {name: _sha256(path) for name, path in paths.items()} == austen_module.FILE_SHA256
