"""``fashion-adversarial``: ``fashion-cnn``'s network trained to withstand PGD attacks.

The same network, data and schedule as ``fashion-cnn``, trained on attacked batches
(:class:`ember.tasks.AdversarialTraining`): "fast" adversarial training by default (FGSM from a
random start with step ``1.25 * epsilon``, Wong et al. 2020, about twice a clean epoch), or PGD-7
(Madry et al. 2018, about eight times), or clean training for the comparison. Every evaluation
adds accuracy under PGD-20 (L∞, random start) at several radii on up to 1,000 images, and draws
it as a curve (``robust-accuracy.png``).

    ember train fashion-adversarial                       # fast adversarial training, epsilon 0.1
    ember train fashion-adversarial --set training=clean  # the standard network, same evaluation
    ember train fashion-adversarial --set training=pgd --set epochs=4
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from ember import attacks, checks, optimizers, schedules
from ember.plots.figure import new_figure, save_figure
from ember.recipes import fashion_cnn
from ember.recipes.experiment import Experiment
from ember.tasks import AdversarialTraining
from ember.train import Trainer

EVALUATION_IMAGES = 1000  # attacked per split: PGD-20 at six radii stays under a minute


@dataclass
class Config(fashion_cnn.Config):
    epochs: int = 10  # passes over the training images
    training: Literal["fast", "pgd", "clean"] = "fast"  # fast: FGSM + random start; pgd: PGD
    epsilon: float = 0.1  # the attack's L∞ radius in training, in pixel units ([0, 1] images)
    pgd_steps: int = 7  # training=pgd: steps per attack (step size 2.5 * epsilon / steps)
    eval_steps: int = 20  # PGD steps of the evaluation's attack
    eval_epsilons: tuple[float, ...] = (0.0, 0.025, 0.05, 0.1, 0.15, 0.2)  # evaluated radii

    field_checks = {
        **fashion_cnn.Config.field_checks,
        "epsilon": checks.positive_number,
        "pgd_steps": checks.positive_int,
        "eval_steps": checks.positive_int,
    }


def check_config(config: Config) -> None:
    """The radii must be pixel distances: in [0, 1]."""
    for epsilon in (config.epsilon, *config.eval_epsilons):
        attacks.check_epsilon(epsilon)


def build(config: Config) -> Experiment:
    """``fashion-cnn``'s network and data; the adversarial task, and the robust evaluation."""
    plain = fashion_cnn.Config(
        **{f.name: getattr(config, f.name) for f in dataclasses.fields(fashion_cnn.Config)}
    )
    experiment = fashion_cnn.build(plain)
    if config.training != "clean":
        fast = config.training == "fast"
        task = AdversarialTraining(
            experiment.network,
            epsilon=config.epsilon,
            steps=1 if fast else config.pgd_steps,
            step_size=1.25 * config.epsilon if fast else None,
        )
        optimizer = optimizers.Adam(learning_rate=schedules.CosineDecay(config.learning_rate))
        experiment.trainer = Trainer(task, optimizer, device=config.device)
    experiment.evaluation = "custom"
    experiment.evaluator = lambda e, split, out: evaluate_robustness(e, split, out, config)
    experiment.best_by = "accuracy"
    return experiment


def evaluate_robustness(
    experiment: Experiment, split: str, out_dir: Path, config: Config
) -> dict[str, float]:
    """Clean accuracy on the whole split, and accuracy under PGD at each radius on its first
    1,000 images, drawn as a curve."""
    x, y = experiment.data.split(split)
    predicted = experiment.probabilities(x).argmax(-1).cpu()
    metrics = {"accuracy": float((predicted == y.cpu()).float().mean())}
    network = experiment.network
    device = next(network.parameters()).device
    picked_x, picked_y = x[:EVALUATION_IMAGES].to(device), y[:EVALUATION_IMAGES].to(device)
    curve = attacks.robust_accuracy(
        network, picked_x, picked_y, config.eval_epsilons, steps=config.eval_steps
    )
    for epsilon, accuracy in curve.items():
        metrics[f"robust_accuracy@{epsilon:g}"] = accuracy
    figure = new_figure(5.5, 3.6)
    axes = figure.add_subplot()
    axes.plot(list(curve), list(curve.values()), marker="o")
    axes.set(
        xlabel="ε (L∞, pixels in [0, 1])",
        ylabel="accuracy",
        ylim=(0, 1),
        title=f"{split}: accuracy under PGD-{config.eval_steps} ({config.training} training)",
    )
    axes.grid(alpha=0.3)
    save_figure(figure, Path(out_dir) / "robust-accuracy.png")
    return metrics
