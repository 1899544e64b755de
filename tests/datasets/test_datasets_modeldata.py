"""R's modeldata tables from fixture lazy-load databases holding data frames (numbers, factors with
NA, strings), found in the cache or an R library folder; the real package where it is installed."""

from __future__ import annotations

import importlib
import math
from pathlib import Path

import pytest
from r_objects import data_frame, factor, realsxp, strsxp, write_lazyload_db

from ember.datasets import modeldata
from ember.errors import DatasetError, DatasetNotFoundError, UnknownNameError

pytest.importorskip("rdata", reason="reading R data needs rdata (pip install rdata)")

modeldata_module = importlib.import_module("ember.datasets.modeldata")

CREDIT = data_frame(
    {
        "Status": factor([1, 2, 2], [b"bad", b"good"]),
        "Home": factor([2, None, 1], [b"owner", b"rent"]),
        "Income": realsxp([129.0, None, 200.0]),
    },
    rows=3,
)


@pytest.fixture
def no_r_library(isolated, monkeypatch, tmp_path: Path) -> Path:
    library = tmp_path / "R-library" / "modeldata" / "data"
    monkeypatch.setattr(modeldata_module, "R_LIBRARY_DIRS", [library])
    return library


@pytest.mark.parametrize("compressed", [1, 3], ids=["zlib", "xz"])
def test_a_data_frame_comes_with_factors_as_categoricals_and_na_as_missing(
    isolated, no_r_library, compressed: int
) -> None:
    write_lazyload_db(
        isolated["cache"] / "modeldata",
        {"credit_data": CREDIT, "notes": [b"a"]},
        compressed=compressed,
    )
    table = modeldata("credit_data", download=False)
    assert list(table.columns) == ["Status", "Home", "Income"]
    assert list(table.index) == [0, 1, 2]
    assert list(table["Status"]) == ["bad", "good", "good"]
    assert list(table["Status"].cat.categories) == ["bad", "good"]
    assert table["Home"].isna().tolist() == [False, True, False]
    assert table["Income"][0] == 129.0 and math.isnan(table["Income"][1])


def test_an_installed_r_package_is_found_in_the_r_library(isolated, no_r_library) -> None:
    write_lazyload_db(no_r_library, {"credit_data": CREDIT})
    assert modeldata("credit_data", download=False).shape == (3, 3)


def test_an_unknown_name_lists_the_data_sets_the_package_has(isolated, no_r_library) -> None:
    write_lazyload_db(no_r_library, {"ames": CREDIT, "credit_data": CREDIT})
    with pytest.raises(UnknownNameError, match="no data set 'amez'.*ames, credit_data"):
        modeldata("amez", download=False)


def test_a_variable_that_is_not_a_table_raises_naming_it(isolated, no_r_library) -> None:
    write_lazyload_db(no_r_library, {"notes": strsxp([b"a", b"b"])})
    with pytest.raises(DatasetError, match="'notes' is a list, not a table"):
        modeldata("notes", download=False)


def test_missing_files_raise_naming_the_fix(isolated, no_r_library) -> None:
    with pytest.raises(DatasetNotFoundError, match="install_data.sh"):
        modeldata("ames", download=False)


def test_the_real_tables_have_their_published_shapes() -> None:
    try:
        credit = modeldata("credit_data", download=False)
    except DatasetNotFoundError as error:
        pytest.skip(f"real data not installed (bash scripts/install_data.sh): {error}")
    assert credit.shape == (4454, 14)
    assert credit["Status"].value_counts().to_dict() == {"good": 3200, "bad": 1254}
    assert int(credit["Income"].isna().sum()) == 381
    ames = modeldata("ames", download=False)
    assert ames.shape == (2930, 74)
    assert float(ames["Sale_Price"].median()) == 160000.0
