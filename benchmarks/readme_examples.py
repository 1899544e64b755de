"""How long the README's Python examples take: each ```python block run in order, timed.

The blocks share one namespace, as they would in one notebook (the second uses the first's data).
Progress bars are silenced (``verbose`` output goes to a null stream) so that only the times print.

    python benchmarks/readme_examples.py            # every block
    python benchmarks/readme_examples.py --blocks 2  # the third block only (0-based)
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import re
import time
from pathlib import Path

ROOT = Path(__file__).parents[1]


def blocks() -> list[tuple[int, str]]:
    """(line number, code) of each ```python block of README.md."""
    text = (ROOT / "README.md").read_text()
    return [
        (text[: m.start()].count("\n") + 2, m.group(1))
        for m in re.finditer(r"```python\n(.+?)\n```", text, flags=re.S)
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--blocks", type=int, nargs="*", help="which blocks (default: all)")
    args = parser.parse_args()
    import torch

    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {os.cpu_count()} cores")
    namespace: dict = {}
    chosen = set(args.blocks) if args.blocks else None
    for index, (line, code) in enumerate(blocks()):
        if chosen is not None and index not in chosen:
            continue
        start = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()):
            exec(compile(code, f"README.md:{line}", "exec"), namespace)  # noqa: S102
        print(
            f"block {index} (README.md line {line}): {time.perf_counter() - start:.1f} s",
            flush=True,
        )


if __name__ == "__main__":
    main()
