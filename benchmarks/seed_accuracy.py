"""The first seed program's test accuracy on MNIST: ember vs Keras 3 (torch backend), several seeds.

    python benchmarks/seed_accuracy.py --seeds 0 1 2            # ember and Keras side by side
    python benchmarks/seed_accuracy.py --seeds 0 1 2 --skip-keras

The TensorFlow tutorial this program comes from reports about 97.7% after 5 epochs.
"""

from __future__ import annotations

import argparse
import os
import statistics

os.environ.setdefault("KERAS_BACKEND", "torch")

import ember  # noqa: E402
from ember import datasets, layers, models  # noqa: E402


def ember_run(seed: int, data) -> float:
    (x_train, y_train), (x_test, y_test) = data
    ember.set_seed(seed)
    model = models.Sequential(
        [
            layers.Flatten(input_shape=(28, 28)),
            layers.Dense(128, activation="relu"),
            layers.Dropout(0.2),
            layers.Dense(10, activation="softmax"),
        ]
    )
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x_train, y_train, epochs=5, verbose=0)
    return model.evaluate(x_test, y_test, verbose=0)[1]


def keras_run(seed: int, data) -> float:
    import keras

    (x_train, y_train), (x_test, y_test) = data
    keras.utils.set_random_seed(seed)
    model = keras.Sequential(
        [
            keras.Input((28, 28)),
            keras.layers.Flatten(),
            keras.layers.Dense(128, activation="relu"),
            keras.layers.Dropout(0.2),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x_train, y_train, epochs=5, verbose=0)
    return model.evaluate(x_test, y_test, verbose=0)[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--skip-keras", action="store_true")
    args = parser.parse_args()
    (x_train, y_train), (x_test, y_test) = datasets.mnist.load_data()
    data = ((x_train / 255.0, y_train), (x_test / 255.0, y_test))
    runners = {"ember": ember_run} | ({} if args.skip_keras else {"keras": keras_run})
    for name, run in runners.items():
        scores = [run(seed, data) for seed in args.seeds]
        print(
            f"{name}: test accuracy {' '.join(f'{s:.4f}' for s in scores)} "
            f"(mean {statistics.mean(scores):.4f})",
            flush=True,
        )


if __name__ == "__main__":
    main()
