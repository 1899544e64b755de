"""The ``ember`` command (also ``python -m ember``).

Exit codes: 0 success, 2 usage or configuration error, 1 failure during a run (also a run
stopped with Ctrl-C). Errors print one paragraph, never a traceback, unless ``--debug``.

Example:
    >>> main(["list"]) == 0  # doctest: +SKIP
    True
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from rich.console import Console
from rich.markup import escape

from ember.cli.parser import build_parser
from ember.errors import ConfigError, EmberError, RunError, ShapeError, WeightsMismatchError

# errors in what the user asked for (exit 2); any other ember error is a failure (exit 1)
USAGE_ERRORS = (ConfigError, RunError, ShapeError, WeightsMismatchError)
# The engine's advice to Python callers, as it reads on the command line of a command with
# --device (the engine's messages stay as they are for Python).
COMMAND_LINE_ADVICE = {"use device='cpu' (or 'auto')": "use --device cpu (or --device auto)"}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``ember`` command with ``argv`` (default: ``sys.argv[1:]``); return the exit code."""
    parser = build_parser()
    argv = sys.argv[1:] if argv is None else list(argv)
    if not argv:  # a bare `ember`: the help, not an error
        parser.print_help()
        return 0
    args = parser.parse_args(argv)  # --help and usage errors end here, before torch loads
    args.argv = argv  # `--devices N` runs the same arguments again in N processes
    # Here, not at the top: the commands load torch and the recipes (seconds), which `ember
    # --help` and a mistyped command never need.
    from ember.cli import commands, delivery

    console = Console(soft_wrap=True)  # paths and messages stay on one line, whole
    if not console.is_terminal:
        console.width = 160  # rich assumes 80 columns in a pipe, which squeezes tables
    errors = Console(stderr=True, soft_wrap=True)
    actions = {
        "list": commands.list_all,
        "train": commands.train,
        "resume": commands.resume,
        "evaluate": commands.evaluate,
        "predict": commands.predict,
        "explain": commands.explain,
        "play": delivery.play,
        "export": delivery.export,
        "quantize": delivery.quantize,
        "serve": delivery.serve,
        "generate": commands.generate,
        "report": commands.report,
        "compare": commands.compare,
        "lr-find": commands.lr_find,
        "tune": commands.tune,
        "datasets": commands.datasets_command,
    }
    try:
        if getattr(args, "help_for", None) is not None:  # `ember train RECIPE --help`
            args.help_for.print_help()
            console.print()
            return commands.settings(args.recipe, console)
        return actions[args.command](args, console)
    except EmberError as error:
        if args.debug:
            raise
        message = str(error)
        if hasattr(args, "device"):
            for python, command_line in COMMAND_LINE_ADVICE.items():
                message = message.replace(python, command_line)
        errors.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
        return 2 if isinstance(error, USAGE_ERRORS) else 1
    except KeyboardInterrupt:
        errors.print("interrupted")
        return 1
    except Exception as error:  # noqa: BLE001  (the one place that turns any failure into a message)
        if args.debug:
            raise
        errors.print(
            f"[bold red]error:[/] {type(error).__name__}: {escape(str(error))}. This is unexpected; run the "
            f"same command with --debug for the traceback, and please report it.",
            highlight=False,
            soft_wrap=True,
        )
        return 1


if __name__ == "__main__":
    sys.exit(main())
