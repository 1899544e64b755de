"""Robustness of classifier runs side by side: clean accuracy and accuracy under attack.

For each run: accuracy on the test images clean, under FGSM, and under PGD-20 (L∞, random
start, step 2.5 ε / 20) at each radius; then the same PGD from torchattacks on the first 1,000
test images of each run, to check that ember's attack is as strong (issue #20: within 1 point).

    python benchmarks/adversarial.py runs/adv-clean runs/adv-fast
    python benchmarks/adversarial.py RUN --epsilons 0.1 --images 2000
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch

from ember import attacks
from ember.runs import training


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", type=Path, nargs="+")
    parser.add_argument("--epsilons", type=float, nargs="+", default=[0.05, 0.1, 0.2])
    parser.add_argument("--images", type=int, default=10_000, help="test images attacked")
    parser.add_argument("--steps", type=int, default=20)
    args = parser.parse_args()
    print(f"{torch.get_num_threads()} threads, torch {torch.__version__}")
    header = f"{'run':28} {'clean':>7} " + " ".join(
        f"{f'FGSM {e:g}':>9} {f'PGD {e:g}':>8}" for e in args.epsilons
    )
    rows, checks = [header], []
    for run in args.runs:
        experiment, _ = training.load_experiment(run, "last")
        network = experiment.network.cpu().eval()
        x, y = experiment.data.test
        x, y = x[: args.images], y[: args.images]
        start = time.perf_counter()
        pgd = attacks.robust_accuracy(network, x, y, [0, *args.epsilons], steps=args.steps)
        fgsm = attacks.robust_accuracy(network, x, y, args.epsilons, attack="fgsm")
        seconds = time.perf_counter() - start
        cells = " ".join(f"{fgsm[e]:>9.4f} {pgd[e]:>8.4f}" for e in args.epsilons)
        rows.append(f"{run.name:28} {pgd[0]:>7.4f} {cells}   ({seconds:.0f} s)")
        checks.append(_against_torchattacks(run.name, network, x[:1000], y[:1000], args))
    print("\n".join(rows))
    print("\nember's PGD against torchattacks' on the same 1,000 images (accuracy after attack):")
    print("\n".join(line for line in checks if line))


def _against_torchattacks(name: str, network, x, y, args) -> str:
    try:
        import torchattacks
    except ImportError:
        return f"{name}: torchattacks is not installed"

    class Logits(torch.nn.Module):  # torchattacks takes the model's logits
        def forward(self, inputs):
            return attacks.logits_of(network)(inputs)

    model = Logits().eval()
    lines = []
    for epsilon in args.epsilons:
        step = 2.5 * epsilon / args.steps
        theirs = torchattacks.PGD(model, eps=epsilon, alpha=step, steps=args.steps)(x, y)
        ours = attacks.pgd(network, x, y, epsilon, steps=args.steps, step_size=step)
        with torch.no_grad():
            a = (model(theirs).argmax(1) == y).float().mean().item()
            b = (model(ours).argmax(1) == y).float().mean().item()
        lines.append(f"{name} ε={epsilon:g}: torchattacks {a:.4f}, ember {b:.4f} ({b - a:+.4f})")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
