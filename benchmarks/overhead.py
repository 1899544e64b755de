"""Engine overhead: ember ``fit`` vs a hand-written PyTorch loop vs Keras 3 (torch) vs Lightning.

Trains the first seed program's MLP (as a ``Sequential`` and drawn with the functional API) on real Fashion-MNIST for one epoch at batch sizes 32 and 256,
and the second seed program's CNN (on 10,000 Fashion-MNIST images padded to 32x32x3) at batch 64, every
framework side by side in one process, and prints seconds per epoch and the ratios.

    python benchmarks/overhead.py                 # all frameworks, 3 repeats, median
    python benchmarks/overhead.py --repeats 1 --skip keras lightning
    python benchmarks/overhead.py --profile       # where ember's time goes (torch.profiler)
    python benchmarks/overhead.py --device cuda   # on a GPU: data on the device, synced timers

Keras and Lightning are optional (``pip install -e ".[bench]"``); missing ones are reported.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable

os.environ.setdefault("KERAS_BACKEND", "torch")

import numpy as np  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402

import ember  # noqa: E402
from ember import datasets, layers, models  # noqa: E402

torch.set_num_threads(max(1, os.cpu_count() or 1))
DEVICE = torch.device("cpu")  # set from --device in main()


def on_device(x: np.ndarray, y: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
    """The data as tensors on the benchmark's device, before any clock starts."""
    return torch.from_numpy(x).to(DEVICE), torch.from_numpy(y).to(DEVICE)


def clock() -> float:
    """``time.perf_counter()`` once the device has finished its queued work (CUDA is async)."""
    if DEVICE.type == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter()


# -- data ----------------------------------------------------------------------------------
def load() -> tuple[np.ndarray, np.ndarray]:
    (x_train, y_train), _ = datasets.fashion_mnist.load_data()
    return (x_train / 255.0).astype("float32"), y_train.astype("int64")


def as_images(x: np.ndarray) -> np.ndarray:
    """28x28 grey -> 32x32x3 (the CIFAR shape the seed CNN expects), channels-last."""
    padded = np.pad(x, ((0, 0), (2, 2), (2, 2)))
    return np.repeat(padded[..., None], 3, axis=-1)


# -- the models, built the same way in every framework -------------------------------------
def ember_mlp() -> models.Sequential:
    return models.Sequential(
        [
            layers.Flatten(input_shape=(28, 28)),
            layers.Dense(128, activation="relu"),
            layers.Dropout(0.2),
            layers.Dense(10, activation="softmax"),
        ]
    )


def ember_cnn() -> models.Sequential:
    return models.Sequential(
        [
            layers.Conv2D(32, (3, 3), activation="relu", input_shape=(32, 32, 3)),
            layers.MaxPooling2D((2, 2)),
            layers.Conv2D(64, (3, 3), activation="relu"),
            layers.MaxPooling2D((2, 2)),
            layers.Conv2D(64, (3, 3), activation="relu"),
            layers.Flatten(),
            layers.Dense(64, activation="relu"),
            layers.Dense(10, activation="softmax"),
        ]
    )


def ember_functional(kind: str) -> ember.Model:
    """The same networks drawn with the functional API (ember.Input, layers on tensors)."""
    stack = ember_mlp() if kind == "mlp" else ember_cnn()
    inputs = ember.Input(shape=(28, 28) if kind == "mlp" else (32, 32, 3))
    x = inputs
    for layer in stack.layers:
        config = layer.get_config()
        config.pop("input_shape", None)
        x = type(layer)(**config)(x)
    return ember.Model(inputs, x)


def torch_mlp() -> nn.Module:
    return nn.Sequential(
        nn.Flatten(), nn.Linear(784, 128), nn.ReLU(), nn.Dropout(0.2), nn.Linear(128, 10)
    )


class TorchCNN(nn.Module):
    """The seed CNN in plain PyTorch, channels-last like ember's (the fast layout on CPU)."""

    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 32, 3),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(64, 64, 3),
            nn.ReLU(),
        )
        self.head = nn.Sequential(nn.Linear(4 * 4 * 64, 64), nn.ReLU(), nn.Linear(64, 10))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.features(x.permute(0, 3, 1, 2))
        return self.head(x.permute(0, 2, 3, 1).flatten(1))


# -- one epoch in each framework -----------------------------------------------------------
def run_ember(
    kind: str, x: np.ndarray, y: np.ndarray, batch_size: int, functional: bool = False
) -> float:
    if functional:
        model = ember_functional(kind)
    else:
        model = ember_mlp() if kind == "mlp" else ember_cnn()
    model.compile(
        optimizer="adam",
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
        device=DEVICE,
    )
    xt, yt = on_device(x, y)
    start = clock()
    model.fit(xt, yt, epochs=1, batch_size=batch_size, verbose=0)
    return clock() - start


def run_hand(
    kind: str, x: np.ndarray, y: np.ndarray, batch_size: int, fused: bool = False
) -> float:
    """The loop a PyTorch user writes: tensors in memory, shuffled index, Adam, running accuracy."""
    model = torch_mlp() if kind == "mlp" else TorchCNN().to(memory_format=torch.channels_last)
    model.to(DEVICE)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, fused=fused or None)
    xt, yt = on_device(x, y)
    start = clock()
    order = torch.randperm(len(xt), device=DEVICE)
    correct = torch.zeros((), dtype=torch.long, device=DEVICE)
    total_loss = torch.zeros((), device=DEVICE)
    for i in range(0, len(xt), batch_size):
        index = order[i : i + batch_size]
        xb, yb = xt[index], yt[index]
        logits = model(xb)
        loss = nn.functional.cross_entropy(logits, yb)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        correct += (logits.argmax(-1) == yb).sum()
        total_loss += loss.detach() * len(yb)
    float(correct), float(total_loss)
    return clock() - start


def run_keras(kind: str, x: np.ndarray, y: np.ndarray, batch_size: int) -> float:
    import keras

    if kind == "mlp":
        model = keras.Sequential(
            [
                keras.Input((28, 28)),
                keras.layers.Flatten(),
                keras.layers.Dense(128, activation="relu"),
                keras.layers.Dropout(0.2),
                keras.layers.Dense(10, activation="softmax"),
            ]
        )
    else:
        model = keras.Sequential(
            [
                keras.Input((32, 32, 3)),
                keras.layers.Conv2D(32, (3, 3), activation="relu"),
                keras.layers.MaxPooling2D((2, 2)),
                keras.layers.Conv2D(64, (3, 3), activation="relu"),
                keras.layers.MaxPooling2D((2, 2)),
                keras.layers.Conv2D(64, (3, 3), activation="relu"),
                keras.layers.Flatten(),
                keras.layers.Dense(64, activation="relu"),
                keras.layers.Dense(10, activation="softmax"),
            ]
        )
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    start = clock()  # Keras (torch backend) puts itself on the GPU when one is visible
    model.fit(x, y, epochs=1, batch_size=batch_size, verbose=0)
    return clock() - start


def run_lightning(kind: str, x: np.ndarray, y: np.ndarray, batch_size: int) -> float:
    import lightning as L
    from torch.utils.data import DataLoader, TensorDataset

    class Classifier(L.LightningModule):
        def __init__(self) -> None:
            super().__init__()
            self.net = torch_mlp() if kind == "mlp" else TorchCNN()

        def training_step(self, batch, batch_idx):  # noqa: ANN001
            xb, yb = batch
            logits = self.net(xb)
            loss = nn.functional.cross_entropy(logits, yb)
            self.log("loss", loss, prog_bar=False)
            self.log("accuracy", (logits.argmax(-1) == yb).float().mean())
            return loss

        def configure_optimizers(self):  # noqa: ANN202
            return torch.optim.Adam(self.parameters(), lr=1e-3)

    loader = DataLoader(TensorDataset(*on_device(x, y)), batch_size=batch_size, shuffle=True)
    trainer = L.Trainer(
        max_epochs=1,
        accelerator="gpu" if DEVICE.type == "cuda" else "cpu",
        devices=1,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
    )
    module = Classifier()
    start = clock()
    trainer.fit(module, loader)
    return clock() - start


def run_hand_fused(kind: str, x: np.ndarray, y: np.ndarray, batch_size: int) -> float:
    """The same loop with torch's fused Adam kernel, which ember picks by default: the ratio
    ember / hand_fused is the engine's own overhead, with the optimizer kernel held equal."""
    return run_hand(kind, x, y, batch_size, fused=True)


RUNNERS: dict[str, Callable[[str, np.ndarray, np.ndarray, int], float]] = {
    "ember": run_ember,
    "functional": lambda *args: run_ember(*args, functional=True),
    "hand": run_hand,
    "hand_fused": run_hand_fused,
    "keras": run_keras,
    "lightning": run_lightning,
}


def available(name: str) -> bool:
    module = {"keras": "keras", "lightning": "lightning"}.get(name)
    if module is None:
        return True
    try:
        __import__(module)
    except ImportError:
        return False
    return True


def measure(
    cases,
    frameworks,
    repeats: int,
    x: np.ndarray,
    y: np.ndarray,
    cnn_samples: int,
    statistic=statistics.median,
) -> dict:
    results: dict[tuple[str, int], dict[str, float]] = {}
    for kind, batch_size in cases:
        data_x, data_y = (x, y) if kind == "mlp" else (as_images(x[:cnn_samples]), y[:cnn_samples])
        row = results.setdefault((kind, batch_size), {})
        times: dict[str, list[float]] = {name: [] for name in frameworks}
        for _ in range(repeats):
            # Interleave frameworks in each repeat so drift in machine load hits all alike.
            for name in frameworks:
                ember.set_seed(0)
                times[name].append(RUNNERS[name](kind, data_x, data_y, batch_size))
        for name in frameworks:
            row[name] = statistic(times[name])
        print(
            f"{kind} batch {batch_size}: " + ", ".join(f"{n} {row[n]:.2f}s" for n in frameworks),
            flush=True,
        )
    return results


def report(results: dict, frameworks: list[str]) -> str:
    lines = [
        "| model | batch | "
        + " | ".join(f"{n} s/epoch" for n in frameworks)
        + " | ember / hand | ember / hand_fused | functional / ember | keras / ember"
        + " | lightning / ember |",
        "|---|---|" + "---|" * (len(frameworks) + 5),
    ]
    for (kind, batch_size), row in results.items():

        def ratio(a: str, b: str, row: dict = row) -> str:
            return f"{row[a] / row[b]:.2f}" if a in row and b in row else "n/a"

        lines.append(
            f"| {kind} | {batch_size} | "
            + " | ".join(f"{row[n]:.2f}" for n in frameworks)
            + f" | {ratio('ember', 'hand')} | {ratio('ember', 'hand_fused')}"
            + f" | {ratio('functional', 'ember')}"
            + f" | {ratio('keras', 'ember')} | {ratio('lightning', 'ember')} |"
        )
    return "\n".join(lines)


def profile(x: np.ndarray, y: np.ndarray, batch_size: int) -> None:
    from torch.profiler import ProfilerActivity
    from torch.profiler import profile as torch_profile

    model = ember_mlp()
    model.compile(
        optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"], device="cpu"
    )
    model.fit(x[:2048], y[:2048], epochs=1, batch_size=batch_size, verbose=0)  # warm up
    with torch_profile(activities=[ProfilerActivity.CPU]) as prof:
        model.fit(x[:20000], y[:20000], epochs=1, batch_size=batch_size, verbose=0)
    print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=25))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--skip", nargs="*", default=[], choices=list(RUNNERS))
    parser.add_argument("--cases", nargs="*", default=["mlp:32", "mlp:256", "cnn:64"])
    parser.add_argument("--device", default="cpu", help="cpu or cuda (data on the device)")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument(
        "--statistic",
        choices=["median", "min"],
        default="median",
        help="min: the fastest repeat of each (steadier on a machine others are using)",
    )
    parser.add_argument("--samples", type=int, default=None, help="first N training images")
    parser.add_argument("--profile-batch", type=int, default=32, help="batch size to profile")
    parser.add_argument(
        "--cnn-samples",
        type=int,
        default=10000,
        help="images in the CNN's epoch (the whole 60,000 takes minutes each)",
    )
    args = parser.parse_args()
    global DEVICE
    DEVICE = torch.device(args.device)
    if DEVICE.type == "cuda" and not torch.cuda.is_available():
        parser.error("--device cuda needs a GPU; none is visible here. Fix: --device cpu.")
    x, y = load()
    if args.profile:
        profile(x, y, args.profile_batch)
        return
    frameworks = [n for n in RUNNERS if n not in args.skip and available(n)]
    missing = [n for n in RUNNERS if n not in args.skip and not available(n)]
    if missing:
        print(f"not installed, skipped: {', '.join(missing)} (pip install -e '.[bench]')")
    cases = [(c.split(":")[0], int(c.split(":")[1])) for c in args.cases]
    where = torch.cuda.get_device_name() if DEVICE.type == "cuda" else "CPU"
    print(
        f"torch {torch.__version__}, {where}, {torch.get_num_threads()} threads, "
        f"{args.repeats} repeat(s)"
    )
    if args.samples:
        x, y = x[: args.samples], y[: args.samples]
    statistic = min if args.statistic == "min" else statistics.median
    results = measure(cases, frameworks, args.repeats, x, y, args.cnn_samples, statistic)
    print()
    print(report(results, frameworks))


if __name__ == "__main__":
    main()
