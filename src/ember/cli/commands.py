"""What each ``ember`` sub-command does. Each takes the parsed arguments and a rich console."""

from __future__ import annotations

import argparse
import difflib
import itertools
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from ember import datasets, models, recipes
from ember import explain as interpretation
from ember.cli import launch
from ember.cli import tune as tuning
from ember.cli.generate import generate_text, print_generation
from ember.cli.table_rows import is_table_request, predict_table_rows
from ember.datasets.cache import find_file, search_dirs
from ember.deploy import Predictor
from ember.deploy.inputs import load_inputs, text_inputs, top_k_lines
from ember.errors import ConfigError, UnknownNameError
from ember.models.lr_finder import find_learning_rate
from ember.recipes import config as run_config
from ember.recipes import config_yaml
from ember.runs import rundir, training
from ember.runs.compare import compare_runs, differing_settings, format_comparison, short_names
from ember.runs.report import render_report
from ember.seeding import set_seed
from ember.train.distributed import is_main_process
from ember.zoo import catalog


def resolve(spec: str, overrides: list[str], **flags: Any) -> tuple[recipes.Recipe, Any]:
    """The recipe and config named by ``spec`` (a recipe name or a YAML file), overridden by
    ``--set`` pairs and then by flags such as ``--epochs``; every value is type-checked."""
    path = Path(spec)
    if spec.endswith((".yaml", ".yml")) or path.exists() or "/" in spec:
        name, fields = config_yaml.load_yaml(path)
        if name is None:
            raise ConfigError(
                f"{path} does not say which recipe it configures. Fix: add a line such as "
                f"`recipe: fashion-mlp` (see `ember list`)."
            )
        recipe = recipes.get(name)
        config = run_config.from_mapping(
            recipe.config_class, {**recipe.defaults, **fields}, str(path), recipe=name
        )
    else:
        recipe = recipes.get(spec)
        config = recipe.config()
    config = run_config.apply_overrides(config, overrides, recipe=recipe.name)
    pairs = [f"{key}={value}" for key, value in flags.items() if value is not None]
    return recipe, run_config.apply_overrides(config, pairs, recipe=recipe.name)


def list_all(args: argparse.Namespace, console: Console) -> int:
    """``ember list``, ``ember list RECIPE`` (its settings) or ``ember list MODEL``."""
    if args.name is not None and args.name in catalog.list_models():
        entry = catalog.entry(args.name)
        console.print(f"[bold]{entry.name}[/] ({entry.family}): {_model_line(entry)}")
        console.print(f"  ember.models.create({entry.name!r}, num_classes=..., in_channels=...)")
        return 0
    if args.name is not None:
        close_models = difflib.get_close_matches(args.name, catalog.list_models(), n=3)
        if args.name not in recipes.RECIPES and close_models and not args.name.endswith(".yaml"):
            names = " or ".join(repr(name) for name in close_models)
            raise UnknownNameError(
                f"unknown recipe or model {args.name!r}. Did you mean the model {names}? "
                f"Fix: run `ember list` to see the recipes and models."
            )
        return settings(args.name, console)
    for title, rows in (
        ("recipes (ember train NAME)", [(r.name, r.description) for r in recipes.RECIPES.values()]),
        (
            "datasets (ember datasets info NAME)",
            [(n, m.DESCRIPTION) for n, m in datasets.DATASETS.items()],
        ),
        (
            "text corpora and series (ember.datasets.NAME())",
            [(f"{n}()", d) for n, d in datasets.CORPORA.items()],
        ),
        ("models (ember.models)", sorted(models.DESCRIPTIONS.items())),
        (
            "image models (ember.models.create(NAME); also any timm model as timm/NAME)",
            [(e.name, _model_line(e)) for e in catalog.entries()],
        ),
    ):
        table = Table(title=title, title_justify="left", show_header=False, box=None)
        for name, description in rows:
            table.add_row(f"[bold]{name}[/]", description)
        console.print(table)
        console.print()
    return 0


def _model_line(entry: catalog.ModelEntry) -> str:
    count = f" ({entry.parameters:,} parameters at 1000 classes)" if entry.parameters else ""
    return f"{entry.description}{count}"


def settings(spec: str, console: Console) -> int:
    """A recipe's description and settings (name, type, default, comment): ``ember list RECIPE``
    and ``ember train RECIPE --help``. ``spec`` may be a config.yaml: then its values show."""
    recipe, config = resolve(spec, [])
    console.print(f"[bold]{recipe.name}[/]: {recipe.description}", highlight=False)
    table = Table(title="settings (--set KEY=VALUE)", title_justify="left", box=None)
    for header in ("setting", "type", "default", "description"):
        table.add_column(header, overflow="fold")
    for row in run_config.describe_fields(config):
        table.add_row(*(Text(cell) for cell in row))
    console.print(table)
    return 0


def train(args: argparse.Namespace, console: Console) -> int:
    """``ember train`` (``--devices N``: again in N processes, :mod:`ember.cli.launch`)."""
    recipe, config = resolve(
        args.recipe, args.overrides, epochs=args.epochs, device=args.device, seed=args.seed
    )
    if launch.needs_launch(args.devices):
        rundir.check_new_run_dir(args.out)
        launch.check_launch(args.devices, config, args.master_port)
        return launch.launch(args.argv, args.devices, args.master_port)
    result = training.train(recipe, config, out=args.out, verbose=0 if args.quiet else 1)
    return _finish(result, console)


def resume(args: argparse.Namespace, console: Console) -> int:
    """``ember resume`` (``--devices N``: in N processes, as ``train``)."""
    if launch.needs_launch(args.devices):
        _, config = rundir.read_config(rundir.check_run(args.run))
        launch.check_launch(args.devices, config, args.master_port)
        return launch.launch(args.argv, args.devices, args.master_port)
    return _finish(training.resume(args.run, verbose=0 if args.quiet else 1), console)


def evaluate(args: argparse.Namespace, console: Console) -> int:
    """``ember evaluate``."""
    metrics = training.evaluate(args.run, args.split, args.checkpoint)
    table = Table(title=f"{args.run} · {args.split} split · {args.checkpoint} checkpoint")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for name, value in metrics.items():
        table.add_row(name, f"{value:.4f}" if name != "time" else f"{value:.1f}s")
    console.print(table)
    return 0


def predict(args: argparse.Namespace, console: Console) -> int:
    """``ember predict``."""
    if args.top_k < 1:
        raise ConfigError(f"expected a positive integer, received --top-k {args.top_k}")
    if bool(args.files) == bool(args.text):
        raise ConfigError(
            "ember predict needs either files (images or .npy) or --text, not both or neither. "
            'Fix: ember predict RUN shoe.png, or ember predict RUN --text "A gem."'
        )
    if args.csv is not None and args.text:
        raise ConfigError("--csv writes predictions of files. Fix: drop --csv for --text.")
    if is_table_request(args.files):  # rows of a table, for a tabular-* run
        return predict_table_rows(args, console)
    if args.csv is not None:
        predictor = Predictor(args.run, checkpoint=args.checkpoint)
        rows = predictor.predict_files(args.files, args.csv, resize=args.resize, verbose=1)
        console.print(f"wrote {len(rows)} predictions to {args.csv}")
        return 0
    experiment, _ = training.load_experiment(args.run, args.checkpoint)
    if args.text:
        names, x = text_inputs(experiment, args.text)
    else:
        names, x = load_inputs(args.files, experiment.data.input_shape, resize=args.resize)
    probabilities = experiment.probabilities(x)
    for line in top_k_lines(names, probabilities, experiment.data.class_names, args.top_k):
        console.print(line)
    return 0


def generate(args: argparse.Namespace, console: Console) -> int:
    """``ember generate``."""
    pieces = generate_text(
        args.run,
        args.prompt,
        args.length,
        temperature=args.temperature,
        top_k=args.top_k,
        top_p=args.top_p,
        seed=args.seed,
        checkpoint=args.checkpoint,
        use_cache=not args.no_cache,
    )
    first = next(pieces, "")  # errors (bad prompt, not a text run) before anything is printed
    print_generation(itertools.chain([first], pieces), args.prompt)
    return 0


def report(args: argparse.Namespace, console: Console) -> int:
    """``ember report``."""
    path = render_report(rundir.check_run(args.run))
    console.print(f"report: {path}")
    return 0


def compare(args: argparse.Namespace, console: Console) -> int:
    """``ember compare``."""
    for run in args.runs:
        rundir.check_run(run)
    out = _png_path(args.out, "compare.png", Path(args.runs[0]).parent / "compare")
    rows = compare_runs(args.runs, out)
    names = short_names(args.runs)
    console.print(format_comparison(rows, differing_settings(args.runs), names))
    for name, run in zip(names, args.runs):
        if name != str(run):
            console.print(f"  {name}: {run}", highlight=False)
    console.print(f"plot: {out}")
    return 0


def lr_find(args: argparse.Namespace, console: Console) -> int:
    """``ember lr-find``."""
    recipe, config = resolve(args.recipe, args.overrides, device=args.device)
    own_folder = args.out is None or args.out.suffix.lower() != ".png"
    out = _png_path(args.out, "lr_find.png", Path("runs") / f"lr-find-{recipe.name}")
    if own_folder:  # a new or empty one: it gets a config.yaml too, never over a run's
        rundir.check_new_run_dir(out.parent)
    set_seed(config.seed)
    experiment = recipe.build(config)
    result = find_learning_rate(
        experiment.trainer, experiment.batches("train", shuffle=True), num_steps=args.steps
    )
    result.plot(out)
    suggestion = "none (too few steps)" if result.suggestion is None else f"{result.suggestion:.2e}"
    console.print(f"suggested learning rate: {suggestion}")
    console.print(f"plot: {out}")
    if own_folder:  # the config tried, to train with next
        rundir.write_config(out.parent, recipe.name, config)
        if result.suggestion is not None:
            console.print(
                f"train with it: ember train {out.parent / rundir.CONFIG_FILE} "
                f"--set learning_rate={result.suggestion:.2e}"
            )
    return 0


def tune(args: argparse.Namespace, console: Console) -> int:
    """``ember tune`` (:mod:`ember.cli.tune`)."""
    recipe, config = resolve(args.recipe, args.overrides)
    return tuning.run(args, recipe, config, console)


def datasets_command(args: argparse.Namespace, console: Console) -> int:
    """``ember datasets info|download``."""
    name = args.name.replace("-", "_")
    if name not in datasets.DATASETS:
        raise ConfigError(
            f"unknown dataset {args.name!r}. Fix: choose one of {', '.join(datasets.DATASETS)}."
        )
    module = datasets.DATASETS[name]
    if args.action == "download":
        paths = datasets.find_or_download(module.NAME, module.FILES, mirrors=module.MIRRORS)
    else:
        paths = {key: find_file(module.NAME, info) for key, info in module.FILES.items()}
    console.print(f"[bold]{name}[/]: {module.DESCRIPTION}")
    console.print(f"classes: {', '.join(module.class_names)}")
    for key, path in paths.items():
        where = str(path) if path else "[red]missing[/] (`ember datasets download " + name + "`)"
        console.print(f"  {key}: {where}")
    console.print("searched: " + ", ".join(str(d) for d in search_dirs(module.NAME)))
    return 0


def _png_path(out: Path | None, name: str, default_folder: Path) -> Path:
    """Where a command's plot goes: ``out`` if it is a .png path, else ``out/name``; without
    ``out``, ``name`` in a new folder ``<default_folder>-<time>`` (never the current folder)."""
    if out is not None:
        return out if out.suffix.lower() == ".png" else out / name
    stamp = time.strftime("%Y%m%d-%H%M%S")
    folder = default_folder.with_name(f"{default_folder.name}-{stamp}")
    suffix = 2
    while folder.exists():
        folder = default_folder.with_name(f"{default_folder.name}-{stamp}-{suffix}")
        suffix += 1
    return folder / name


def _finish(result: training.RunResult, console: Console) -> int:
    if not is_main_process():  # one of several processes: the main one prints the summary
        return 0 if result.finished else 1
    table = Table(title=f"{result.run_dir.name}: {_status(result)}", title_justify="left")
    table.add_column("metric")
    # A run without a test split ends with its validation scores, and shows no test column.
    columns = (
        ("train", "validation", "test") if result.validation is None else ("train", "validation")
    )
    for column in columns:
        table.add_column(column, justify="right")
    last = result.last_epoch
    final = result.test or result.validation or {}
    names = [
        k
        for k, v in last.items()
        if not k.startswith("val_") and k not in _NOT_METRICS and not isinstance(v, str)
    ]
    for name in names + [k for k in final if k not in names and k != "time"]:
        validation = (result.validation or {}).get(name, last.get(f"val_{name}"))
        cells = [_number(last.get(name)), _number(validation)]
        if result.validation is None:
            cells.append(_number((result.test or {}).get(name)))
        table.add_row(name, *cells)
    console.print(table)
    if isinstance(last.get("sample"), str):  # a language model's last sample
        console.print(f"sample: {last['sample']}", markup=False, highlight=False)
    console.print(f"report: {result.report}")
    if not result.finished:
        console.print(f"continue with: ember resume {result.run_dir}")
    return 0 if result.finished else 1


_NOT_METRICS = {"kind", "epoch", "step", "time", "learning_rate"}


def _status(result: training.RunResult) -> str:
    if result.finished:
        return f"finished {result.epochs} epoch{'s' if result.epochs != 1 else ''}"
    return f"stopped after epoch {result.epochs_done} of {result.epochs}"


def _number(value: Any) -> str:
    return "" if value is None else f"{value:.4f}"


PICTURES = ("filters", "classes")  # ember explain methods that need no images


def explain(args: argparse.Namespace, console: Console) -> int:
    """``ember explain RUN IMAGE... --method``: heat maps over the images (one PNG); with
    ``--method filters`` or ``classes``, the first layer's filters or one image per class."""
    methods = (*interpretation.METHODS, *PICTURES)
    if args.method not in methods:  # before the run loads
        raise ConfigError(f"unknown --method {args.method!r}. Fix: one of {', '.join(methods)}.")
    if args.method not in PICTURES and not args.files:
        raise ConfigError(
            f"--method {args.method} draws over images. Fix: name image files after the run "
            f"(or --method filters / classes, which need none)."
        )
    experiment, _ = training.load_experiment(args.run, args.checkpoint)
    if len(experiment.data.input_shape) != 3:
        raise ConfigError(
            f"{args.run} does not classify images (its inputs are {experiment.data.input_shape}); "
            f"ember explain draws heat maps over images. Fix: explain an image run."
        )
    network = experiment.network.cpu().eval()
    classes = experiment.data.class_names
    out = Path(args.out) if args.out is not None else Path(args.run) / "explain"
    if args.method in PICTURES:
        if args.method == "filters":
            images = interpretation.first_layer_filters(network)
            titles, what = [str(i) for i in range(len(images))], "the first convolution's filters"
        else:
            shape = experiment.data.input_shape
            images = interpretation.maximize_class(network, shape, range(len(classes)))
            titles, what = list(classes), "images that maximise each class's score"
        path = interpretation.plot_images(images, titles, out / f"{args.method}.png", what)
        console.print(f"wrote {path}: {what}")
        return 0
    names, x = load_inputs(args.files, experiment.data.input_shape, resize=args.resize)
    maps = interpretation.explain(network, x, args.method)
    probabilities = experiment.probabilities(x)
    titles = [
        f"{name}\n{classes[int(p.argmax())]} {float(p.max()):.0%}"
        for name, p in zip(names, probabilities)
    ]
    path = interpretation.plot_overlays(x, maps, titles, out / f"{args.method}.png", args.method)
    console.print(f"wrote {path}: {args.method} over {len(names)} image(s)")
    return 0
