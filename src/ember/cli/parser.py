"""The ``ember`` command's arguments (argparse): one sub-command per action, ``--help`` on each."""

from __future__ import annotations

import argparse
from pathlib import Path

DESCRIPTION = """\
ember: train, evaluate and explain deep-learning models from recipes.

  ember list                             recipes, datasets and models
  ember list fashion-mlp                 a recipe's settings (also: ember train RECIPE --help)
  ember train fashion-mlp                train a recipe; writes runs/fashion-mlp-<time>/
  ember tune fashion-mlp --space s.yaml  search its settings with Optuna (--trials N)
  ember resume runs/fashion-mlp-...      continue a stopped or killed run exactly
  ember report RUN | evaluate RUN | predict RUN image.png | compare RUN RUN ...
  ember generate RUN --prompt "Call me"  continue a text with a language-model run
"""


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``ember`` command."""
    parser = argparse.ArgumentParser(
        prog="ember", description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--debug", action="store_true", help="show the full traceback on errors")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    listing = commands.add_parser("list", help="list recipes, datasets and models")
    listing.add_argument(
        "name", nargs="?", metavar="RECIPE", help="a recipe: show its description and settings"
    )

    train = commands.add_parser(
        "train", help="train a recipe (or a config.yaml) as a new run", add_help=False
    )
    _recipe_arguments(train)
    train.add_argument("--epochs", type=int, help="override the recipe's number of epochs")
    _device(train)
    train.add_argument("--seed", type=int, help="seed for every random number generator")
    train.add_argument("--out", type=Path, help="the run folder (default: runs/<recipe>-<time>)")
    _processes(train)
    _quiet(train)

    resume = commands.add_parser("resume", help="continue a stopped or killed run exactly")
    resume.add_argument("run", type=Path, metavar="RUN", help="a run folder")
    _processes(resume)
    _quiet(resume)

    evaluate = commands.add_parser("evaluate", help="evaluate a run's model on a split")
    evaluate.add_argument("run", type=Path, metavar="RUN")
    evaluate.add_argument("--split", default="test", choices=["train", "val", "test"])
    _checkpoint(evaluate)

    export = commands.add_parser(
        "export", help="write a classification run's network as ONNX or a .pt2 program"
    )
    export.add_argument("run", type=Path, metavar="RUN")
    export.add_argument("--format", default="onnx", choices=["onnx", "pt2"], help="(onnx)")
    export.add_argument("--out", type=Path, help="the file (default: RUN/export/model.FORMAT)")
    export.add_argument(
        "--triton",
        type=Path,
        metavar="REPOSITORY",
        help="with onnx: also a Triton model repository folder (config.pbtxt, 1/model.onnx)",
    )
    export.add_argument(
        "--int8",
        action="store_true",
        help="also an int8 ONNX file (ONNX Runtime, static), measured against float32",
    )
    _checkpoint(export)

    quantize = commands.add_parser(
        "quantize", help="an int8 copy of a classifier run, measured against float32 side by side"
    )
    quantize.add_argument("run", type=Path, metavar="RUN")
    quantize.add_argument(
        "--method",
        default="static",
        choices=["static", "dynamic", "qat"],
        help="static: calibrated on training images; dynamic: Dense layers, per-batch ranges; "
        "qat: fine-tune through int8 rounding first (static)",
    )
    quantize.add_argument("--out", type=Path, help="the folder (default: RUN/quantized-METHOD)")
    quantize.add_argument(
        "--calibration", type=int, default=300, help="training images for static ranges (300)"
    )
    quantize.add_argument("--epochs", type=int, default=1, help="qat: fine-tuning epochs (1)")
    quantize.add_argument(
        "--learning-rate", type=float, default=1e-4, help="qat: Adam's step size (1e-4)"
    )
    quantize.add_argument(
        "--no-onnx", action="store_true", help="leave ONNX Runtime out of the comparison"
    )
    _checkpoint(quantize)
    _quiet(quantize)

    serve = commands.add_parser("serve", help="serve a classifier run over HTTP (FastAPI)")
    serve.add_argument("run", type=Path, metavar="RUN")
    serve.add_argument("--host", default="127.0.0.1", help="(127.0.0.1: this machine only)")
    serve.add_argument("--port", type=int, default=8000, help="(8000)")
    serve.add_argument(
        "--format",
        default="pytorch",
        choices=["pytorch", "onnx"],
        help="the run's network in PyTorch, or its ONNX export (made if missing)",
    )
    serve.add_argument("--max-batch-size", type=int, default=32, help="micro-batch rows (32)")
    serve.add_argument(
        "--max-wait-ms", type=float, default=5.0, help="how long a batch waits to fill (5)"
    )
    _checkpoint(serve)

    play = commands.add_parser(
        "play", help="play greedy episodes with a run's agent and print their returns"
    )
    play.add_argument("run", type=Path, metavar="RUN")
    play.add_argument("--episodes", type=int, default=10, help="how many episodes (10)")
    play.add_argument("--seed", type=int, help="first starting state's seed (default 30000)")
    play.add_argument("--gif", type=Path, help="also film the first episode into this GIF")
    play.add_argument(
        "--checkpoint", default="best", choices=["last", "best"], help="which network (best)"
    )

    predict = commands.add_parser(
        "predict",
        help="classify images (PNG/JPG), .npy arrays, texts (--text), or a table's rows (.csv)",
    )
    predict.add_argument("run", type=Path, metavar="RUN")
    predict.add_argument("files", type=Path, nargs="*", metavar="FILE")
    predict.add_argument(
        "--text",
        action="append",
        default=[],
        metavar="TEXT",
        help="a text to classify with a text run (sentiment-*); repeat for more",
    )
    predict.add_argument("--top-k", type=int, default=3, help="how many classes to show (3)")
    predict.add_argument(
        "--csv", type=Path, help="write every input's probabilities to this CSV (folders work too)"
    )
    predict.add_argument(
        "--resize", action="store_true", help="resize and convert images to what the model expects"
    )
    _checkpoint(predict)

    explain = commands.add_parser(
        "explain", help="heat maps of why an image classifier run decided (PNG overlays)"
    )
    explain.add_argument("run", type=Path, metavar="RUN")
    explain.add_argument("files", type=Path, nargs="*", metavar="IMAGE")
    explain.add_argument(
        "--method",
        default="gradcam",
        help="gradcam (last convolution), saliency, smoothgrad or ig (integrated gradients) over "
        "the images; filters (first layer) or classes (an image per class) need none",
    )
    explain.add_argument("--out", type=Path, help="the folder for the PNGs (default RUN/explain)")
    explain.add_argument(
        "--resize", action="store_true", help="resize and convert images to what the model expects"
    )
    _checkpoint(explain)

    generate = commands.add_parser(
        "generate", help="continue a prompt with a language-model run (textgen-*)"
    )
    generate.add_argument("run", type=Path, metavar="RUN")
    generate.add_argument("--prompt", required=True, help='the text to continue, e.g. "Call me"')
    generate.add_argument("--length", type=int, default=400, help="tokens to generate (400)")
    generate.add_argument(
        "--temperature", type=float, default=0.8, help="0 = most likely token; 1 = as learned"
    )
    generate.add_argument("--top-k", type=int, help="sample from the k most likely tokens only")
    generate.add_argument("--top-p", type=float, help="sample from the smallest set with mass p")
    generate.add_argument("--seed", type=int, help="the same seed gives the same text")
    generate.add_argument(
        "--no-cache", action="store_true", help="recompute the whole context for every token"
    )
    _checkpoint(generate)

    report = commands.add_parser("report", help="render a run's report.html again")
    report.add_argument("run", type=Path, metavar="RUN")

    compare = commands.add_parser("compare", help="compare runs: a table and one plot")
    compare.add_argument("runs", type=Path, nargs="+", metavar="RUN")
    compare.add_argument(
        "--out",
        type=Path,
        metavar="DIR",
        help="folder for compare.png, or a .png path (default: a new compare-<time>/ folder "
        "beside the first run)",
    )

    lr_find = commands.add_parser(
        "lr-find", help="learning-rate range test: plot + suggestion", add_help=False
    )
    _recipe_arguments(lr_find)
    _device(lr_find)
    lr_find.add_argument(
        "--out",
        type=Path,
        metavar="DIR",
        help="a new folder for lr_find.png and config.yaml, or a .png path (default: "
        "runs/lr-find-<recipe>-<time>/)",
    )
    lr_find.add_argument("--steps", type=int, default=100, help="batches to try (100)")

    tune = commands.add_parser(
        "tune", help="search a recipe's settings with Optuna (each trial a run)", add_help=False
    )
    _recipe_arguments(tune)
    tune.add_argument("--space", type=Path, help="YAML: config key -> values (required)")
    tune.add_argument("--trials", type=int, help="finished trials to reach (grid: every point)")
    tune.add_argument("--sampler", default="tpe", choices=["tpe", "random", "grid"])
    tune.add_argument("--pruner", default="median", choices=["median", "hyperband", "none"])
    tune.add_argument("--storage", metavar="URL", help="SQLAlchemy URL (default: DIR/study.db)")
    tune.add_argument("--workers", type=int, default=1, help="processes sharing the study (1)")
    tune.add_argument("--study", help="the study's name in the storage (default: the recipe)")
    tune.add_argument("--out", type=Path, metavar="DIR", help="(default: runs/tune-RECIPE-TIME)")
    tune.add_argument("--seed", type=int, help="seeds the sampler")
    tune.add_argument("--metric", help="logged value to optimise (default: val_accuracy, ...)")
    tune.add_argument("--direction", choices=["maximize", "minimize"], help="(from the metric)")
    tune.add_argument("--heartbeat", type=int, default=10, help="seconds between trial heartbeats")

    data = commands.add_parser("datasets", help="where a dataset is, or download it")
    data.add_argument("action", choices=["info", "download"])
    data.add_argument("name", metavar="NAME", help="fashion_mnist, mnist or cifar10")
    return parser


class RecipeHelp(argparse.Action):
    """``-h``/``--help``: after a recipe, the help and that recipe's settings (``main`` prints
    them: only it loads the recipes); before one, argparse's usual help."""

    def __init__(self, option_strings: list[str], dest: str, **kwargs: object) -> None:
        help_text = "show this help; after RECIPE, its settings too"
        super().__init__(option_strings, dest, nargs=0, default=None, help=help_text)

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: object,
        option_string: str | None = None,
    ) -> None:
        if namespace.recipe is None:
            parser.print_help()
            parser.exit()
        setattr(namespace, self.dest, parser)  # main prints parser's help, then the settings


def _recipe_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-h", "--help", action=RecipeHelp, dest="help_for")
    parser.add_argument(
        "recipe",
        metavar="RECIPE|config.yaml",
        help="a recipe name (see `ember list`) or a YAML config",
    )
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a config field (repeatable), e.g. --set hidden_units=256",
    )


def _device(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--device", help="cpu, cuda, cuda:1 ... (default: the config's, auto)")


def _processes(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--devices",
        type=int,
        default=1,
        metavar="N",
        help="train on N processes on this machine (one per GPU, or CPU processes), through "
        "torchrun; the batch size stays the global one (1)",
    )
    parser.add_argument(
        "--master-port",
        type=int,
        metavar="PORT",
        help="with --devices: the port the processes meet on (default: a free one)",
    )


def _quiet(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--quiet", action="store_true", help="no progress bars")


def _checkpoint(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--checkpoint", default="last", choices=["last", "best"], help="which weights (last)"
    )
