"""Jane Austen's six completed novels, full text (~4M characters), from the R package janeaustenr.

The novels are character vectors (one element a line of the Project Gutenberg text) in the
package's lazy-load database ``data/Rdata.rdb`` + ``Rdata.rdx``, read with the PyPI package
``rdata``. Looked for in ``$EMBER_DATA/jane-austen/``, the cache, ``/usr/share/datasets``, then
where R packages are installed (Debian's ``r-cran-janeaustenr`` puts them in
``/usr/lib/R/site-library/janeaustenr/data``); otherwise Debian's package is downloaded and the two
files are taken out of it. ``scripts/install_data.sh`` installs them from ``apt-get download``.

Example:
    >>> from ember.datasets import jane_austen_books
    >>> books = jane_austen_books()  # doctest: +SKIP
    >>> list(books)  # doctest: +SKIP
    ['Sense & Sensibility', 'Pride & Prejudice', 'Mansfield Park', 'Emma', 'Northanger Abbey', 'Persuasion']
"""

from __future__ import annotations

from pathlib import Path

from ember.datasets.archives import INSTALL_HINT, Archive, find_or_fetch
from ember.datasets.lazyload import read_lazyload_db
from ember.errors import DataError, DatasetError

NAME = "jane-austen"  # the folder name under each searched directory
DESCRIPTION = "Jane Austen's six completed novels, full text, ~4M characters of English"
_R_DATA = "usr/lib/R/site-library/janeaustenr/data"
ARCHIVE = Archive(
    filename="r-cran-janeaustenr_1.0.0-1_all.deb",
    sha256="df6bddf211906d1ff404f8ff662c21b34e6660e7f54a311084e749050c019c95",
    urls=(
        "https://deb.debian.org/debian/pool/main/r/r-cran-janeaustenr/"
        "r-cran-janeaustenr_1.0.0-1_all.deb",
        # Debian's permanent archive, by the file's sha1, for when the pool has moved on.
        "https://snapshot.debian.org/file/0526a5841219e475fbbf6e2d3bcd96e6fb0f479d",
    ),
    members={"Rdata.rdb": f"{_R_DATA}/Rdata.rdb", "Rdata.rdx": f"{_R_DATA}/Rdata.rdx"},
)
# SHA-256 of the two files as Debian's 1.0.0-1 package installs them.
FILE_SHA256 = {
    "Rdata.rdb": "8fb5198960d0da724b1562f96e4221e5c1b41ff455000280b02c55980c3d8f21",
    "Rdata.rdx": "cab8cbe4ce965d3b42b35c03383bafccc0eb78151f70e4748ead45270470c22f",
}
# Where R installs packages: Debian's r-cran-* packages, then install.packages() as root.
R_LIBRARY_DIRS: list[Path] = [
    Path("/usr/lib/R/site-library/janeaustenr/data"),
    Path("/usr/local/lib/R/site-library/janeaustenr/data"),
]
# R variable name -> title, in order of publication (janeaustenr's austen_books() order).
BOOKS: dict[str, str] = {
    "sensesensibility": "Sense & Sensibility",
    "prideprejudice": "Pride & Prejudice",
    "mansfieldpark": "Mansfield Park",
    "emma": "Emma",
    "northangerabbey": "Northanger Abbey",
    "persuasion": "Persuasion",
}


def jane_austen_books(*, download: bool = True) -> dict[str, str]:
    """Return the six novels as ``{title: text}`` in order of publication.

    Each text is the book's lines joined with ``"\\n"`` (blank lines separate paragraphs), ending
    with a newline. With ``download=False`` missing files raise instead of being fetched.

    Example:
        >>> books = jane_austen_books()  # doctest: +SKIP
        >>> books["Emma"][:4]  # doctest: +SKIP
        'EMMA'
    """
    paths = find_or_fetch(
        NAME, ARCHIVE, extra_dirs=R_LIBRARY_DIRS, download=download, hint=INSTALL_HINT
    )
    variables = read_lazyload_db(paths["Rdata.rdb"], paths["Rdata.rdx"])
    missing = [variable for variable in BOOKS if variable not in variables]
    if missing:
        raise DatasetError(
            f"{paths['Rdata.rdb']}: holds no {', '.join(missing)} (it holds "
            f"{', '.join(sorted(variables)) or 'nothing'}); is it janeaustenr's data?"
        )
    books = {}
    for variable, title in BOOKS.items():
        lines = variables[variable]
        if not isinstance(lines, list) or not all(isinstance(line, str) for line in lines):
            raise DataError(
                f"{paths['Rdata.rdb']}: {variable!r} must be a character vector without NA, "
                f"received {type(lines).__name__}"
            )
        if not lines:
            raise DataError(f"{paths['Rdata.rdb']}: {variable!r} is empty")
        books[title] = "\n".join(lines) + "\n"
    return books


def jane_austen(*, download: bool = True) -> str:
    """Return the six novels as one string, in order of publication, separated by a blank line.

    Example:
        >>> text = jane_austen()  # doctest: +SKIP
        >>> len(text) > 4_000_000, text[:19]  # doctest: +SKIP
        (True, 'SENSE AND SENSIBILI')
    """
    return "\n".join(jane_austen_books(download=download).values())
