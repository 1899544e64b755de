"""The sunspots series: a local CSV in statsmodels' layout first, else statsmodels' bundled data."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from ember.datasets import sunspots
from ember.errors import DataError, DatasetError, DatasetNotFoundError

# statsmodels' sunspots.csv, its first lines as the package ships them.
CSV = '"YEAR","SUNACTIVITY"\n1700,5\n1701,11\n1702,16\n1703,23.5\n'


def _write_csv(isolated, text: str) -> None:
    folder = isolated["cache"] / "sunspots"
    folder.mkdir(parents=True)
    (folder / "sunspots.csv").write_text(text)


def test_a_local_csv_is_read_first_as_int_years_and_float32_values(isolated) -> None:
    _write_csv(isolated, CSV)
    years, values = sunspots()
    assert years.dtype == np.int64 and years.tolist() == [1700, 1701, 1702, 1703]
    assert values.dtype == np.float32 and values.tolist() == [5.0, 11.0, 16.0, 23.5]


@pytest.mark.parametrize(
    ("text", "error", "match"),
    [
        (CSV.replace("1701,", "1750,"), DataError, "consecutive whole numbers"),
        (CSV.replace("1702,16", "1702,-3"), DataError, "finite and non-negative"),
        (CSV.replace("1702,16", "1702,lots"), DataError, "line 4: not a number"),
        ('"YEAR","SUNSPOTS"\n1700,5\n', DatasetError, "expected the columns YEAR and SUNACTIVITY"),
        ('"YEAR","SUNACTIVITY"\n', DataError, "holds no sunspot numbers"),
    ],
    ids=["gap", "negative", "text", "columns", "no-rows"],
)
def test_a_bad_local_csv_raises_naming_the_problem(isolated, text, error, match) -> None:
    _write_csv(isolated, text)
    with pytest.raises(error, match=match):
        sunspots()


def test_without_csv_or_statsmodels_the_error_names_folders_and_fix(isolated, monkeypatch) -> None:
    # `import statsmodels...` raises, even after another test imported its submodules
    for name in [n for n in sys.modules if n.split(".")[0] == "statsmodels"] + ["statsmodels"]:
        monkeypatch.setitem(sys.modules, name, None)
    with pytest.raises(DatasetNotFoundError) as caught:
        sunspots()
    message = str(caught.value)
    assert str(isolated["cache"] / "sunspots") in message
    assert "fix: pip install statsmodels" in message


def test_statsmodels_bundled_series_is_returned_unchanged(isolated) -> None:
    bundled = pytest.importorskip("statsmodels.datasets.sunspots").load_pandas().data
    years, values = sunspots()
    np.testing.assert_array_equal(years, bundled["YEAR"].to_numpy().astype(np.int64))
    np.testing.assert_array_equal(values, bundled["SUNACTIVITY"].to_numpy().astype(np.float32))
    assert (years[0], years[-1], len(years)) == (1700, 2008, 309)
    assert int(years[values.argmax()]) == 1957 and values.max() == np.float32(190.2)
