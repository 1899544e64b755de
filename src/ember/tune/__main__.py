"""``python -m ember.tune FOLDER INDEX``: worker INDEX of the search in FOLDER, a process that
:func:`ember.tune` starts for each worker after the first (``workers=K``)."""

import sys
from pathlib import Path

from ember.tune.workers import run_worker

run_worker(Path(sys.argv[1]), int(sys.argv[2]))
