"""Adversarial examples: FGSM and PGD (L∞ and L2), and accuracy under attack.

Each attack moves a batch of inputs, within ``epsilon`` of where it was (L∞: every pixel by at
most ``epsilon``; L2: the whole input by at most ``epsilon`` in Euclidean length) and inside the
pixel range ``bounds`` (``(0, 1)`` for ember's images), so as to raise the classifier's
cross-entropy. The model is attacked in eval mode and given back in the mode it was in; only
the inputs get gradients, so the model's parameters and their ``.grad`` are untouched.

A model that ends in softmax (an ember ``Sequential`` with a softmax classifier) is attacked
through its logits (``Sequential.logits``): the loss of probabilities near 0 or 1 has vanishing
gradients in float32, which would make the model look more robust than it is.

Example:
    >>> import torch
    >>> net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(16, 3))
    >>> x, y = torch.rand(8, 4, 4), torch.randint(0, 3, (8,))
    >>> adversarial = pgd(net, x, y, epsilon=0.1, steps=5)
    >>> bool((adversarial - x).abs().max() <= 0.1 + 1e-6)
    True
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from ember import checks
from ember.errors import ConfigError

NORMS = ("linf", "l2")


def logits_of(model: nn.Module) -> Callable[[torch.Tensor], torch.Tensor]:
    """``model.logits`` when the model has a final softmax/sigmoid to skip, else the model itself.

    An ember ``Model`` wrapping a plain module has a ``logits`` method that returns ``None``
    (nothing to skip), so its ``final_activation()`` decides.
    """
    logits = getattr(model, "logits", None)
    final_activation = getattr(model, "final_activation", None)
    if not callable(logits) or (callable(final_activation) and final_activation() is None):
        return model
    return logits


@contextlib.contextmanager
def evaluation_mode(model: nn.Module) -> Iterator[nn.Module]:
    """Put ``model`` in eval mode, then give every submodule back the mode it had.

    ``model.train(was_training)`` would also switch on a part the user had put in eval mode
    (a frozen backbone's batch norm), so each module's own flag is restored.

    Example:
        >>> net = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.BatchNorm1d(2))
        >>> _ = net[1].eval()
        >>> with evaluation_mode(net):
        ...     net.training
        False
        >>> net.training, net[1].training
        (True, False)
    """
    modes = {module: module.training for module in model.modules()}
    model.eval()
    try:
        yield model
    finally:
        for module, training in modes.items():
            module.training = training


def check_epsilon(epsilon: float, bounds: tuple[float, float] = (0.0, 1.0)) -> float:
    """Raise :class:`ember.ConfigError` unless ``0 <= epsilon <= bounds`` width."""
    low, high = bounds
    if not isinstance(epsilon, (int, float)) or not 0 <= epsilon <= high - low:
        raise ConfigError(
            f"epsilon must be a number in [0, {high - low:g}] (the pixel range is {bounds}), "
            f"received epsilon={epsilon!r}. Fix: give it in pixel units, e.g. epsilon=8/255 or "
            f"0.1 for images in [0, 1]."
        )
    return float(epsilon)


def fgsm(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    epsilon: float,
    *,
    bounds: tuple[float, float] = (0.0, 1.0),
) -> torch.Tensor:
    """The fast gradient sign method (Goodfellow et al. 2015): one L∞ step of ``epsilon``.

    Example:
        >>> net = torch.nn.Linear(4, 2)
        >>> fgsm(net, torch.full((3, 4), 0.5), torch.tensor([0, 1, 0]), 0.1).shape
        torch.Size([3, 4])
    """
    return pgd(model, x, y, epsilon, steps=1, step_size=epsilon, random_start=False, bounds=bounds)


def pgd(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    epsilon: float,
    *,
    steps: int = 10,
    step_size: float | None = None,
    norm: str = "linf",
    random_start: bool = True,
    bounds: tuple[float, float] = (0.0, 1.0),
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Projected gradient descent (Madry et al. 2018): ``steps`` steps of ``step_size`` (default
    ``2.5 * epsilon / steps``) up the loss, each projected back into the ``norm`` ball of radius
    ``epsilon`` around ``x`` and into ``bounds``; from a random point of the ball when
    ``random_start``. One step from a random start with ``step_size=1.25 * epsilon`` is
    "fast" FGSM (Wong et al. 2020). Returns the adversarial batch (no gradients)."""
    epsilon = check_epsilon(epsilon, bounds)
    checks.positive_int("steps", steps)
    checks.one_of("norm", norm, NORMS, fix="norm='linf' (or 'l2')")
    step = (
        2.5 * epsilon / steps
        if step_size is None
        else checks.non_negative_number("step_size", step_size)
    )
    forward = logits_of(model)
    x = x.detach()
    low, high = bounds
    with evaluation_mode(model):
        delta = _random_start(x, epsilon, norm, generator) if random_start else torch.zeros_like(x)
        adversarial = (x + delta).clamp(low, high)
        for _ in range(steps):
            adversarial.requires_grad_(True)
            with torch.enable_grad():
                loss = F.cross_entropy(forward(adversarial).float(), y)
                (gradient,) = torch.autograd.grad(loss, adversarial)
            adversarial = adversarial.detach() + step * _direction(gradient, norm)
            adversarial = (x + _project(adversarial - x, epsilon, norm)).clamp(low, high)
    return adversarial.detach()


def _per_sample_norm(t: torch.Tensor) -> torch.Tensor:
    return t.flatten(1).norm(dim=1).clamp_min(1e-12).view(-1, *([1] * (t.ndim - 1)))


def _direction(gradient: torch.Tensor, norm: str) -> torch.Tensor:
    return gradient.sign() if norm == "linf" else gradient / _per_sample_norm(gradient)


def _project(delta: torch.Tensor, epsilon: float, norm: str) -> torch.Tensor:
    if norm == "linf":
        return delta.clamp(-epsilon, epsilon)
    return delta * (epsilon / _per_sample_norm(delta)).clamp(max=1.0)


def _random_start(
    x: torch.Tensor, epsilon: float, norm: str, generator: torch.Generator | None
) -> torch.Tensor:
    noise = torch.rand(x.shape, generator=generator, device=x.device, dtype=x.dtype)
    if norm == "linf":
        return (2 * noise - 1) * epsilon
    direction = torch.randn(x.shape, generator=generator, device=x.device, dtype=x.dtype)
    radius = noise.flatten(1)[:, :1].view(-1, *([1] * (x.ndim - 1))) * epsilon
    return direction / _per_sample_norm(direction) * radius


def robust_accuracy(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    epsilons: Sequence[float],
    *,
    attack: str = "pgd",
    steps: int = 20,
    norm: str = "linf",
    batch_size: int = 500,
    seed: int = 0,
) -> dict[float, float]:
    """Accuracy on ``x`` attacked at each ``epsilon`` (``"pgd"`` with ``steps``, or ``"fgsm"``);
    ``0`` is the clean accuracy.

    Example:
        >>> net = torch.nn.Linear(4, 2)
        >>> acc = robust_accuracy(net, torch.rand(20, 4), torch.randint(0, 2, (20,)), [0, 0.1], steps=2)
        >>> sorted(acc)
        [0, 0.1]
    """
    checks.one_of("attack", attack, ("pgd", "fgsm"), fix="attack='pgd' (or 'fgsm')")
    for epsilon in epsilons:
        check_epsilon(epsilon)
    generator = torch.Generator(device=x.device).manual_seed(seed)
    forward = logits_of(model)
    results = {}
    for epsilon in epsilons:
        correct = 0
        for xb, yb in zip(x.split(batch_size), y.split(batch_size)):
            if epsilon == 0:
                attacked = xb
            elif attack == "fgsm":
                attacked = fgsm(model, xb, yb, epsilon)
            else:
                attacked = pgd(model, xb, yb, epsilon, steps=steps, norm=norm, generator=generator)
            with evaluation_mode(model), torch.no_grad():
                correct += int((forward(attacked).argmax(-1) == yb).sum())
        results[epsilon] = correct / len(x)
    return results
