"""Feature maps: a network's penultimate features, or any encoder's codes, drawn in 2-D by class.

:func:`penultimate_features` reads the input of a network's last linear layer (what its
classifier head sees), :func:`embed` maps features to 2-D with scikit-learn's PCA or t-SNE, and
:func:`plot_feature_map` draws the points coloured by class. :func:`feature_map` does all three
and writes ``feature-map-pca.png`` and ``feature-map-tsne.png``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from ember import checks
from ember.data.batches import to_tensor
from ember.errors import ConfigError, DataError
from ember.layers.base import Layer
from ember.layers.core import Dense
from ember.models.devices import device_of
from ember.models.sequential import Sequential
from ember.plots.figure import MAX_ANNOTATED_CLASSES, new_figure, save_figure

METHODS = ("pca", "tsne")
# Points embedded by default. t-SNE costs about N log N per iteration: 2,000 points take ~14 s
# of one core (sklearn 1.9); PCA of 10,000 x 784 takes ~1 s, and 10,000 points fill a plot.
MAX_POINTS = {"pca": 10_000, "tsne": 2_000}
TSNE_INPUT_DIMENSIONS = 50  # t-SNE runs on the top 50 principal components (sklearn's advice)
_TITLES = {"pca": "PCA", "tsne": "t-SNE"}
_AXES = {"pca": ("principal component 1", "principal component 2"), "tsne": ("t-SNE 1", "t-SNE 2")}
_LINEAR = (nn.Linear, Dense)


def penultimate_features(network: nn.Module, x: Any, batch_size: int = 500) -> torch.Tensor:
    """The input of ``network``'s last linear layer for each sample of ``x``, as (N, F) floats.

    For an ember ``Sequential`` that is the last ``Dense``/``nn.Linear`` among its layers (so
    trailing ``Dropout`` and ``Activation`` layers are passed over); for any other module, the last
    ``nn.Linear`` or ``Dense`` in module order, read with a forward pre-hook. Runs in eval mode in
    batches on the network's device, restores every submodule's mode, and returns CPU tensors.

    Example:
        >>> network = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Linear(8, 3))
        >>> penultimate_features(network, torch.randn(5, 4)).shape
        torch.Size([5, 8])
    """
    head = _last_linear(network)
    inputs: list[torch.Tensor] = []
    hook = head.register_forward_pre_hook(lambda module, args: inputs.append(args[0]))

    def features(batch: torch.Tensor) -> torch.Tensor:
        inputs.clear()
        network(batch)
        if not inputs:
            raise ConfigError(
                f"{type(network).__name__}'s last linear layer ({type(head).__name__}) was not "
                f"called in its forward pass, so its input cannot be read. Fix: pass a callable "
                f"that returns the features you want instead of the network."
            )
        return inputs[-1]  # a layer called several times (shared head): its last input

    try:
        return _outputs(features, x, batch_size, network)
    finally:
        hook.remove()


def embed(
    features: Any, method: str = "pca", seed: int = 0, max_points: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """2-D points of (N, F) ``features`` by PCA or t-SNE, and the indices of the rows kept.

    At most ``max_points`` rows are embedded (default ``MAX_POINTS[method]``), drawn uniformly at
    random with ``seed`` and kept in their order, so the result depends only on the inputs.

    Example:
        >>> points, kept = embed(torch.randn(20, 5), "pca", max_points=10)
        >>> points.shape, kept.shape
        ((10, 2), (10,))
    """
    _check_method(method)
    data = _as_matrix(features)
    if max_points is not None and (isinstance(max_points, bool) or max_points < 2):
        raise ConfigError(f"expected max_points of at least 2, received max_points={max_points!r}")
    kept = _sample_indices(len(data), max_points or MAX_POINTS[method], seed)
    data = data[kept]
    points = _pca(data, 2, seed) if method == "pca" else _tsne(data, seed)
    return points.astype(np.float32), kept


def plot_feature_map(
    points: Any,
    labels: Any,
    class_names: Sequence[str] | None,
    path: str | os.PathLike,
    title: str,
    axis_labels: tuple[str, str] = ("dimension 1", "dimension 2"),
) -> Any:
    """Scatter (M, 2) ``points`` coloured by class (or in one colour when ``labels`` is None).

    The legend names each class (up to 20 classes). A class keeps its colour across plots: the
    colour follows the class index, not the order of appearance. Returns the figure.

    Example:
        >>> import pathlib, tempfile
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "map.png"
        >>> figure = plot_feature_map([[0, 0], [1, 1]], [0, 1], ["cat", "dog"], path, "codes")
        >>> [text.get_text() for text in figure.axes[0].get_legend().get_texts()]
        ['cat', 'dog']
    """
    points = np.asarray(points, dtype=np.float64)
    if points.ndim != 2 or points.shape[1] != 2:
        raise DataError(f"expected points of shape (M, 2), received shape {points.shape}")
    figure = new_figure(8, 6)
    axes = figure.add_subplot()
    size = float(np.clip(3000 / max(len(points), 1), 3, 30))  # smaller dots when there are many
    style = {"s": size, "alpha": 0.7, "linewidths": 0}
    if labels is None:
        axes.scatter(points[:, 0], points[:, 1], color="tab:blue", **style)
    else:
        labels = _as_labels(labels, len(points), class_names)
        count = len(class_names) if class_names is not None else int(labels.max(initial=0)) + 1
        colours = _colours(count)
        for label in np.unique(labels):
            name = class_names[label] if class_names is not None else str(label)
            chosen = points[labels == label]
            axes.scatter(chosen[:, 0], chosen[:, 1], color=colours[label], label=name, **style)
        if count <= MAX_ANNOTATED_CLASSES:
            legend = axes.legend(
                loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False, fontsize="small"
            )
            for handle in legend.legend_handles:  # legend dots readable however small the points
                handle.set_sizes([40])
                handle.set_alpha(1)
    axes.set_title(title)
    axes.set_xlabel(axis_labels[0])
    axes.set_ylabel(axis_labels[1])
    axes.grid(alpha=0.3)
    return save_figure(figure, path)


def feature_map(
    network_or_features: nn.Module | Callable[[torch.Tensor], torch.Tensor],
    x: Any,
    labels: Any,
    class_names: Sequence[str] | None,
    out_dir: str | os.PathLike,
    methods: Sequence[str] = METHODS,
    *,
    seed: int = 0,
    batch_size: int = 500,
) -> list[Path]:
    """Write ``feature-map-<method>.png`` in ``out_dir`` for each method; return their paths.

    ``network_or_features`` is either a network (its :func:`penultimate_features` are drawn) or a
    callable ``features(x) -> Tensor`` such as an autoencoder's ``encode`` (its codes are drawn).
    A callable gets batches of ``x`` as given, except that a bound method of a module gets them
    on that module's device, with the module in eval mode. To draw a whole network's output,
    pass ``network.forward``. ``labels`` may be None (one colour).

    Example:
        >>> import tempfile
        >>> network = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Linear(8, 3))
        >>> x, labels = torch.randn(30, 4), torch.arange(30) % 3
        >>> paths = feature_map(network, x, labels, ["a", "b", "c"], tempfile.mkdtemp(), ["pca"])
        >>> [path.name for path in paths]
        ['feature-map-pca.png']
    """
    for method in methods:
        _check_method(method)
    x = to_tensor(x)  # numpy float64 (x / 255.0) becomes float32, as in fit
    kept = _sample_indices(len(x), max(MAX_POINTS[method] for method in methods), seed)
    labels = None if labels is None else _as_labels(labels, len(x), class_names)[kept]
    x = x[torch.from_numpy(kept)] if len(kept) < len(x) else x
    if isinstance(network_or_features, nn.Module):
        features = penultimate_features(network_or_features, x, batch_size)
        what = "penultimate features"
    elif callable(network_or_features):
        owner = getattr(network_or_features, "__self__", None)
        owner = owner if isinstance(owner, nn.Module) else None
        features = _outputs(network_or_features, x, batch_size, owner)
        # An encoder's output is its codes (autoencoder.encode); other callables give features.
        what = "codes" if "encode" in getattr(network_or_features, "__name__", "") else "features"
    else:
        raise ConfigError(
            f"expected a network (nn.Module) or a callable features(x) -> Tensor, "
            f"received {type(network_or_features).__name__}"
        )
    paths = []
    for method in methods:
        points, chosen = embed(features, method, seed)
        of_all = f" of {len(kept):,}" if len(points) < len(kept) else ""
        title = f"{_TITLES[method]} of {what} ({len(points):,} points{of_all})"
        path = Path(out_dir) / f"feature-map-{method}.png"
        point_labels = None if labels is None else labels[chosen]
        plot_feature_map(points, point_labels, class_names, path, title, _AXES[method])
        paths.append(path)
    return paths


def _last_linear(network: nn.Module) -> nn.Module:
    if not isinstance(network, nn.Module):
        raise ConfigError(f"expected an nn.Module, received {type(network).__name__}")
    # In an ember Sequential the head is a layer: a Linear nested in a later block (attention,
    # a wrapper) is not the classifier. Anything else: the last linear module registered.
    if isinstance(network, Sequential):
        heads = [layer for layer in network.layers if isinstance(layer, _LINEAR)]
        if heads:
            return heads[-1]
    heads = [module for module in network.modules() if isinstance(module, _LINEAR)]
    if not heads:
        raise ConfigError(
            f"{type(network).__name__} has no nn.Linear or Dense layer, so it has no penultimate "
            f"features (the input of its last linear layer). Fix: pass a features callable "
            f"instead of the network, e.g. feature_map(autoencoder.encode, x, ...) or "
            f"feature_map(lambda x: network.body(x).flatten(1), x, ...)."
        )
    return heads[-1]


def _outputs(
    function: Callable[[torch.Tensor], torch.Tensor],
    x: Any,
    batch_size: int,
    module: nn.Module | None,
) -> torch.Tensor:
    """``function`` over ``x`` in batches, flattened to (N, F) CPU floats; ``module`` in eval mode."""
    batch_size = checks.positive_int("batch_size", batch_size)
    x = to_tensor(x)  # numpy float64 (x / 255.0) becomes float32, as in fit
    if len(x) == 0:
        raise DataError("no samples: x is empty. Fix: pass at least 2 samples.")
    device = device_of(module) if module is not None else x.device
    modes = {m: m.training for m in module.modules()} if module is not None else {}
    # Weights created inside inference_mode could never be trained: a layer that still has to
    # build itself (lazy shapes) gets no_grad instead.
    lazy = any(
        (isinstance(m, Layer) and not m.built) or isinstance(m, nn.modules.lazy.LazyModuleMixin)
        for m in modes
    )
    try:
        if module is not None:
            module.eval()
        with torch.no_grad() if lazy else torch.inference_mode():
            parts = []
            for start in range(0, len(x), batch_size):
                output = function(x[start : start + batch_size].to(device))
                parts.append(output.reshape(len(output), -1).float().cpu())  # (B, F)
    finally:
        for submodule, training in modes.items():  # each its own mode: frozen parts stay frozen
            submodule.training = training
    return torch.cat(parts)  # out of inference mode, so an ordinary tensor


def _pca(data: np.ndarray, dimensions: int, seed: int) -> np.ndarray:
    from sklearn.decomposition import PCA

    components = min(dimensions, *data.shape)
    points = PCA(n_components=components, random_state=seed).fit_transform(data)
    # Fewer than `dimensions` features or samples: the missing components are zero.
    return np.pad(points, ((0, 0), (0, dimensions - components)))


def _tsne(data: np.ndarray, seed: int) -> np.ndarray:
    from sklearn.manifold import TSNE

    if data.shape[1] > TSNE_INPUT_DIMENSIONS or data.shape[1] < 2:  # init="pca" needs 2 columns
        data = _pca(data, TSNE_INPUT_DIMENSIONS if data.shape[1] > 2 else 2, seed)
    perplexity = min(30.0, max(1.0, (len(data) - 1) / 3))  # must stay below the number of points
    tsne = TSNE(2, perplexity=perplexity, init="pca", random_state=seed)
    return tsne.fit_transform(data.astype(np.float32))


def _check_method(method: str) -> None:
    if method not in METHODS:
        raise ConfigError(f"expected method 'pca' or 'tsne', received method={method!r}")


def _sample_indices(count: int, limit: int, seed: int) -> np.ndarray:
    if count <= limit:
        return np.arange(count)
    # Uniform without replacement, not the first `limit`: datasets are often sorted by class.
    return np.sort(np.random.default_rng(seed).choice(count, limit, replace=False))


def _as_matrix(features: Any) -> np.ndarray:
    if isinstance(features, torch.Tensor):
        features = features.detach().cpu().float().numpy()
    data = np.asarray(features, dtype=np.float64)
    if data.ndim >= 1 and data.size:
        data = data.reshape(len(data), -1)  # (N,) or (N, C, H, W) -> (N, F)
    if data.ndim != 2 or len(data) < 2:
        raise DataError(
            f"expected features of shape (N, F) with N >= 2, received shape {data.shape}"
        )
    if not np.isfinite(data).all():
        raise DataError(
            f"features hold {int((~np.isfinite(data)).sum())} NaN or infinite values. "
            f"Fix: check the network (a diverged run?) or the inputs."
        )
    return data


def _as_labels(labels: Any, count: int, class_names: Sequence[str] | None) -> np.ndarray:
    if isinstance(labels, torch.Tensor):
        labels = labels.detach().cpu().numpy()
    labels = np.asarray(labels).reshape(-1)
    if len(labels) != count:
        raise DataError(f"expected {count} labels, one per point, received {len(labels)}")
    if labels.dtype.kind not in "iu":
        raise DataError(f"expected integer class labels, received dtype {labels.dtype}")
    classes = len(class_names) if class_names is not None else None
    if len(labels) and (labels.min() < 0 or (classes is not None and labels.max() >= classes)):
        raise DataError(
            f"labels must lie in [0, {classes or 'number of classes'}), received values from "
            f"{labels.min()} to {labels.max()}"
        )
    return labels.astype(np.int64)


def _colours(count: int) -> list[Any]:
    from matplotlib import colormaps

    if count <= 10:
        return list(colormaps["tab10"].colors)
    if count <= 20:
        return list(colormaps["tab20"].colors)
    return list(colormaps["turbo"](np.linspace(0, 1, count)))  # too many to tell apart anyway
