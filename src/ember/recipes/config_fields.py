"""The fields of a config dataclass a user may set, and the comment each carries in its source.

Example:
    >>> import dataclasses
    >>> @dataclasses.dataclass
    ... class Config:
    ...     epochs: int = 10
    >>> sorted(init_fields(Config)), field_default(init_fields(Config)["epochs"])
    (['epochs'], 10)
"""

from __future__ import annotations

import dataclasses
import inspect
import io
import textwrap
import tokenize
from typing import Any


def field_comments(cls: type | object) -> dict[str, str]:
    """Each dataclass field's trailing ``# comment``, read from the class source ("" if none).

    Base classes are read too, so inherited fields keep their comments. A class whose source
    cannot be found (defined in a REPL, say) gets empty strings.

    Example:
        >>> import dataclasses
        >>> @dataclasses.dataclass
        ... class Config:
        ...     epochs: int = 10  # passes over the data
        >>> field_comments(Config)  # doctest: +SKIP
        {'epochs': 'passes over the data'}
    """
    cls = cls if isinstance(cls, type) else type(cls)
    comments = {field.name: "" for field in dataclasses.fields(cls)}
    for klass in reversed(cls.__mro__):  # base first, so a subclass that redefines a field wins
        if klass is object:
            continue
        for name, comment in _class_comments(klass).items():
            if name in comments and comment:
                comments[name] = comment
    return comments


def _class_comments(klass: type) -> dict[str, str]:
    """``{name: comment}`` for the annotated assignments directly in ``klass``'s body."""
    try:
        source = textwrap.dedent(inspect.getsource(klass))
    except (OSError, TypeError):  # no source file: REPL, doctest, compiled module
        return {}
    comments: dict[str, str] = {}
    body_depth = 1  # the class statement sits at indentation depth 0 after dedent
    depth = 0
    statement: list[tokenize.TokenInfo] = []  # tokens of the logical line being read
    statement_depth = 0
    try:
        for token in tokenize.generate_tokens(io.StringIO(source).readline):
            if token.type == tokenize.INDENT:
                depth += 1
            elif token.type == tokenize.DEDENT:
                depth -= 1
            elif token.type == tokenize.NEWLINE:
                name, comment = _annotated_name_and_comment(statement)
                if name is not None and statement_depth == body_depth:
                    comments[name] = comment
                statement = []
            elif token.type != tokenize.NL:
                if not statement:
                    statement_depth = depth
                statement.append(token)
    except (tokenize.TokenError, SyntaxError):
        pass  # keep what was read; a comment is never worth crashing over
    return comments


def _annotated_name_and_comment(statement: list[tokenize.TokenInfo]) -> tuple[str | None, str]:
    code = [token for token in statement if token.type != tokenize.COMMENT]
    if len(code) < 2 or code[0].type != tokenize.NAME or code[1].string != ":":
        return None, ""
    comments = [token.string for token in statement if token.type == tokenize.COMMENT]
    # The trailing comment is the last one; a field spread over lines may carry others inside.
    return code[0].string, comments[-1].lstrip("#").strip() if comments else ""


def init_fields(cls: type) -> dict[str, dataclasses.Field]:
    """The fields a user may set (those the dataclass ``__init__`` takes), by name."""
    return {field.name: field for field in dataclasses.fields(cls) if field.init}


def field_default(field: dataclasses.Field) -> Any:
    if field.default is not dataclasses.MISSING:
        return field.default
    if field.default_factory is not dataclasses.MISSING:
        return field.default_factory()
    return dataclasses.MISSING
