"""Real tables from the R package modeldata (tidymodels' example data), as pandas DataFrames.

``modeldata("credit_data")`` is 4,454 loan applications (``Status`` good/bad, categorical columns
and missing values); ``modeldata("ames")`` the Ames, Iowa house sales (2,930 rows, 73 columns,
``Sale_Price`` in dollars); ``modeldata("wa_churn")`` 7,043 telecom customers. R factors come as
pandas categoricals, missing values as ``NaN``. ``TABLES`` lists the ones described here;
``modeldata()`` with any other name of the package's 41 data sets works too.

The package's lazy-load database (``data/Rdata.rdb`` + ``Rdata.rdx``) is read with the PyPI
package ``rdata``. It is looked for in ``$EMBER_DATA/modeldata/``, the cache,
``/usr/share/datasets``, then where R packages are installed (Debian's ``r-cran-modeldata``);
otherwise Debian's package is downloaded and the two files taken out of it.
``scripts/install_data.sh`` installs them from ``apt-get download``.

Example:
    >>> from ember.datasets import modeldata
    >>> credit = modeldata("credit_data")  # doctest: +SKIP
    >>> credit.shape, credit["Status"].value_counts().to_dict()  # doctest: +SKIP
    ((4454, 14), {'good': 3200, 'bad': 1254})
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

from ember.datasets.archives import INSTALL_HINT, Archive, find_or_fetch
from ember.datasets.lazyload import read_lazyload_db, variable_names
from ember.errors import DatasetError, UnknownNameError

NAME = "modeldata"  # the folder name under each searched directory
DESCRIPTION = "tables from R's modeldata: credit_data (loan status), ames (house prices), ..."
_R_DATA = "usr/lib/R/site-library/modeldata/data"
ARCHIVE = Archive(
    filename="r-cran-modeldata_1.1.0-1_all.deb",
    sha256="66c2e08bb4bf695d972b1e72ea44d5af9ada3c42841793d3871017f7b896bf95",
    urls=(
        "https://deb.debian.org/debian/pool/main/r/r-cran-modeldata/"
        "r-cran-modeldata_1.1.0-1_all.deb",
        # Debian's permanent archive, by the file's sha1, for when the pool has moved on.
        "https://snapshot.debian.org/file/2ecde65f808d285f0af777e9d979210f6cf7a8b4",
    ),
    members={"Rdata.rdb": f"{_R_DATA}/Rdata.rdb", "Rdata.rdx": f"{_R_DATA}/Rdata.rdx"},
)
# SHA-256 of the two files as Debian's 1.1.0-1 package installs them.
FILE_SHA256 = {
    "Rdata.rdb": "2ecef5e8da0f782ae4e3f65d928fe769702accffd8981cc358a3097f6736f58f",
    "Rdata.rdx": "c23e1be60f2730fb526ce158a307e154c91a953169fcb8e73350c4e032e14538",
}
R_LIBRARY_DIRS: list[Path] = [
    Path("/usr/lib/R/site-library/modeldata/data"),
    Path("/usr/local/lib/R/site-library/modeldata/data"),
]
# The tables ember's recipes use, with what one row is and the column a model predicts.
TABLES: dict[str, str] = {
    "credit_data": "a loan application; Status (good/bad) from 13 columns, some missing",
    "ames": "a house sold in Ames, Iowa, 2006-2010; Sale_Price (dollars) from 73 columns",
    "wa_churn": "a telecom customer; churn (Yes/No) from 19 columns",
}


def modeldata(name: str, *, download: bool = True) -> Any:
    """The modeldata table ``name`` as a pandas DataFrame (row index 0..N-1).

    With ``download=False`` missing files raise instead of being fetched. A name the package
    lacks raises :class:`~ember.errors.UnknownNameError` listing the ones it has.

    Example:
        >>> ames = modeldata("ames")  # doctest: +SKIP
        >>> ames.shape, str(ames["Neighborhood"].dtype)  # doctest: +SKIP
        ((2930, 74), 'category')
    """
    paths = find_or_fetch(
        NAME, ARCHIVE, extra_dirs=R_LIBRARY_DIRS, download=download, hint=INSTALL_HINT
    )
    known = variable_names(paths["Rdata.rdx"])
    if name not in known:
        raise UnknownNameError(
            f"modeldata has no data set {name!r}. Fix: use one of {', '.join(sorted(known))} "
            f"(tables for ember's recipes: {', '.join(TABLES)})."
        )
    with warnings.catch_warnings():
        # rdata names each R class it maps to a close one (tbl_df -> data.frame, Date): noise here.
        warnings.filterwarnings("ignore", "Missing constructor", UserWarning)
        table = read_lazyload_db(paths["Rdata.rdb"], paths["Rdata.rdx"], names={name})[name]
    if not hasattr(table, "columns"):
        raise DatasetError(
            f"{paths['Rdata.rdb']}: {name!r} is a {type(table).__name__}, not a table. "
            f"Fix: pick a table, e.g. one of {', '.join(TABLES)}."
        )
    table = table.reset_index(drop=True)
    table.columns = [str(column) for column in table.columns]  # rdata gives numpy strings
    return table
