"""The generative recipes against issue #5's targets: ``gan``, ``cgan`` and ``dbn``.

- ``gan`` and ``cgan`` (Fashion-MNIST): the domain-specific FID of 10,000 samples against the
  test images (lower is better; ``fid_real`` is real training images' value, the floor), class
  coverage (every class >= 5% of the samples), ``cgan``'s conditional accuracy (>= 0.90), and
  the wall time (<= 600 s, the domain classifier's one-off training included when this run
  trained it). With ``--vae-run RUN`` a trained ``vae`` run's samples are scored with the same
  classifier and as many images: the DCGAN must have the lower FID (same dataset only).
- ``dbn`` (MNIST, 1,000 labels): test accuracy pretrained vs from scratch for each seed; the
  pretrained network must win, each run within 600 s.

Each recipe runs exactly as ``ember train NAME`` would, a run folder per run under ``--root``.

    python benchmarks/generative.py                              # gan, cgan, dbn (3 seeds x 2)
    python benchmarks/generative.py --recipes gan --vae-run runs/vae-fashion-...
    python benchmarks/generative.py --recipes --vae-run runs/vae-...     # only score a VAE run
    python benchmarks/generative.py --set epochs=1 --set train_samples=640   # a quick try-out
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from pathlib import Path
from typing import Any

import torch

from ember import recipes
from ember.recipes.config import apply_overrides
from ember.recipes.domain_classifier import classifier_path, domain_classifier, sample_quality
from ember.runs import rundir, training

TIME_LIMIT = 600  # seconds per run on the 2-core CPU machine
MIN_SHARE = 0.05  # every class in at least 5% of the samples
MIN_CONDITIONAL_ACCURACY = 0.90


def config_for(name: str, pairs: list[str], **fields: Any) -> Any:
    """The recipe's default config with the ``--set`` pairs that name one of its fields."""
    config = recipes.get(name).config(**fields)
    names = {field.name for field in dataclasses.fields(config)}
    return apply_overrides(config, [p for p in pairs if p.partition("=")[0] in names], recipe=name)


def train(name: str, config: Any, root: Path) -> tuple[dict, float, Path]:
    start = time.perf_counter()
    result = training.train(recipes.get(name), config, root=root, verbose=0)
    return result.test, time.perf_counter() - start, result.run_dir


def mark(ok: bool) -> str:
    return "met" if ok else "NOT met"


def run_gan(name: str, pairs: list[str], root: Path) -> dict:
    config = config_for(name, pairs)
    cached = classifier_path(config.dataset).is_file()
    test, seconds, run = train(name, config, root)
    checks = [
        f"coverage ≥ {MIN_SHARE:.0%}: {mark(test['coverage_min'] >= MIN_SHARE)}",
        f"≤ {TIME_LIMIT} s: {mark(seconds <= TIME_LIMIT)}",
    ]
    if "conditional_accuracy" in test:
        ok = test["conditional_accuracy"] >= MIN_CONDITIONAL_ACCURACY
        checks.insert(1, f"conditional ≥ {MIN_CONDITIONAL_ACCURACY:.2f}: {mark(ok)}")
    row = {"name": name, "config": config, "test": test, "seconds": seconds, "run": run}
    row["classifier"] = "cached" if cached else "trained in this run"
    row["verdict"] = "; ".join(checks)
    print(
        f"{name}: FID {test['fid']:.3f} (real {test['fid_real']:.3f}), coverage min "
        f"{test['coverage_min']:.3f}, {test.get('conditional_accuracy', float('nan')):.3f} "
        f"conditional, {seconds:.0f} s (classifier {row['classifier']}, test accuracy "
        f"{test['classifier_accuracy']:.4f}) — {row['verdict']}",
        flush=True,
    )
    return row


@torch.no_grad()
def score_vae(run: Path, num_samples: int, seed: int = 0) -> tuple[str, dict]:
    """The dataset of a trained ``vae`` run and its samples' domain FID and coverage."""
    _, config = rundir.read_config(run)
    experiment, _ = training.load_experiment(run)
    vae = experiment.network.eval()
    noise = torch.Generator().manual_seed(seed)
    images = torch.cat(
        [vae.sample(len(c), generator=noise).cpu() for c in torch.arange(num_samples).split(1000)]
    )  # (num_samples, 28, 28, 1): the decoder's pixel means, in [0, 1]
    classifier = domain_classifier(config.dataset, device=experiment.trainer.device, verbose=1)
    metrics = sample_quality(classifier, experiment.data.test[0], images).metrics(MIN_SHARE)
    print(
        f"vae ({run}, {config.dataset}): FID {metrics['fid']:.3f} of {num_samples:,} samples, "
        f"coverage min {metrics['coverage_min']:.3f}",
        flush=True,
    )
    return config.dataset, metrics


def run_dbn(pairs: list[str], seeds: list[int], root: Path) -> list[dict]:
    rows = []
    for seed in seeds:
        row = {"seed": seed}
        for pretrain in (True, False):
            config = config_for("dbn", pairs, seed=seed, pretrain=pretrain)
            test, seconds, _ = train("dbn", config, root)
            key = "pretrained" if pretrain else "scratch"
            row[key], row[f"{key}_seconds"] = test["accuracy"], seconds
        row["verdict"] = mark(row["pretrained"] > row["scratch"])
        print(
            f"dbn seed {seed}: pretrained {row['pretrained']:.4f} ({row['pretrained_seconds']:.0f}"
            f" s), scratch {row['scratch']:.4f} ({row['scratch_seconds']:.0f} s) — pretrained "
            f"wins: {row['verdict']}",
            flush=True,
        )
        rows.append(row)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipes", nargs="*", default=["gan", "cgan", "dbn"])
    parser.add_argument("--root", type=Path, default=Path("runs/benchmarks"))
    parser.add_argument("--seeds", type=int, nargs="*", default=[0, 1, 2], help="dbn seeds")
    parser.add_argument("--vae-run", type=Path, help="a trained vae run to score the same way")
    parser.add_argument(
        "--set", action="append", default=[], metavar="KEY=VALUE", help="override, every recipe"
    )
    args = parser.parse_args()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads", flush=True)
    gans = [run_gan(name, args.set, args.root) for name in args.recipes if name != "dbn"]
    vae = None
    if args.vae_run is not None:
        samples = (
            gans[0]["config"].eval_samples if gans else config_for("gan", args.set).eval_samples
        )
        vae = score_vae(args.vae_run, samples)
    dbn = run_dbn(args.set, args.seeds, args.root) if "dbn" in args.recipes else []

    if gans:
        print(
            "\n| recipe | FID | FID real | coverage min | classes ≥ 5% | conditional "
            "accuracy | wall time | targets |"
        )
        print("|---|---|---|---|---|---|---|---|")
    for row in gans:
        test = row["test"]
        conditional = test.get("conditional_accuracy")
        print(
            f"| {row['name']} | {test['fid']:.3f} | {test['fid_real']:.3f} | "
            f"{test['coverage_min']:.3f} | {test['classes_covered']:.0f} | "
            f"{'—' if conditional is None else f'{conditional:.3f}'} | {row['seconds']:.0f} s "
            f"({row['classifier']}) | {row['verdict']} |"
        )
    if vae is not None:
        dataset, metrics = vae
        print(
            f"| vae ({dataset}) | {metrics['fid']:.3f} | | {metrics['coverage_min']:.3f} | "
            f"{metrics['classes_covered']:.0f} | — | | |"
        )
        gan = next((row for row in gans if row["name"] == "gan"), None)
        if gan is not None:
            if gan["config"].dataset != dataset:
                print(
                    f"\nThe VAE run is on {dataset}, the GAN on {gan['config'].dataset}: no "
                    f"comparison. Train `ember train vae --set dataset={gan['config'].dataset}`."
                )
            else:
                better = gan["test"]["fid"] < metrics["fid"]
                print(
                    f"\nDCGAN FID {gan['test']['fid']:.3f} vs VAE {metrics['fid']:.3f}: DCGAN "
                    f"better: {mark(better)}"
                )
    if dbn:
        print("\n| dbn seed | pretrained | scratch | pretrained wins | wall time (pre / scratch) |")
        print("|---|---|---|---|---|")
        for row in dbn:
            print(
                f"| {row['seed']} | {row['pretrained']:.4f} | {row['scratch']:.4f} | "
                f"{row['verdict']} | {row['pretrained_seconds']:.0f} s / "
                f"{row['scratch_seconds']:.0f} s |"
            )
        mean = {key: sum(r[key] for r in dbn) / len(dbn) for key in ("pretrained", "scratch")}
        print(
            f"| mean | {mean['pretrained']:.4f} | {mean['scratch']:.4f} | "
            f"{mark(mean['pretrained'] > mean['scratch'])} | |"
        )


if __name__ == "__main__":
    main()
