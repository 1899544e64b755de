"""The worked example in docs/architecture.md runs, and prints what it says it prints."""

import contextlib
import io
import re
from pathlib import Path

ROOT = Path(__file__).parents[1]


def test_the_worked_task_example_runs():
    page = (ROOT / "docs" / "architecture.md").read_text()
    section = page.split("### Writing a new task", 1)[1]
    code = re.search(r"```python\n(.+?)\n```", section, flags=re.S).group(1)
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(code, "docs/architecture.md", "exec"), {})  # noqa: S102
    expected = re.search(r"print\(sorted\(history.history\)\)  # (.+)", code).group(1)
    assert printed.getvalue().strip() == expected
