"""Render a run's report.html in headless Chromium and save a screenshot (to look at it, or for docs).

    python scripts/screenshot_report.py runs/fashion-mlp-20261123-131500 --out report.png

Needs Debian's ``chromium`` (``apt-get install chromium``). Exits 1 with a message if it is missing
or the page does not render.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path


def screenshot(html: Path, out: Path, width: int = 1100, height: int = 4200) -> None:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        sys.exit("error: chromium is not installed. Fix: apt-get install chromium")
    with tempfile.TemporaryDirectory() as profile:
        command = [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            f"--user-data-dir={profile}",
            f"--window-size={width},{height}",
            f"--screenshot={out.resolve()}",
            html.resolve().as_uri(),
        ]
        subprocess.run(command, check=False, capture_output=True, timeout=120)
    if not out.is_file() or out.stat().st_size == 0:
        sys.exit(f"error: chromium did not render {html}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path, help="a run folder (or a report.html)")
    parser.add_argument("--out", type=Path, default=Path("report.png"))
    parser.add_argument("--height", type=int, default=4200, help="page height in pixels")
    args = parser.parse_args()
    html = args.run / "report.html" if args.run.is_dir() else args.run
    if not html.is_file():
        sys.exit(f"error: {html} does not exist. Fix: run `ember report {args.run}` first.")
    screenshot(html, args.out, height=args.height)
    print(f"screenshot: {args.out}")


if __name__ == "__main__":
    main()
