"""A regularized Fashion-MNIST MLP with a decaying learning rate, as Keras' API docs write it.

Keras source: the Keras 3 API documentation's own snippets, put together on Fashion-MNIST:
``keras.optimizers.schedules.ExponentialDecay`` passed as an optimizer's ``learning_rate``
(https://keras.io/api/optimizers/learning_rate_schedules/exponential_decay/), a layer weight
regularizer ``kernel_regularizer=keras.regularizers.l2(...)``
(https://keras.io/api/layers/regularizers/), a weight constraint
``kernel_constraint=keras.constraints.MaxNorm(...)`` (https://keras.io/api/layers/constraints/),
and the ``Dropout`` and ``GaussianNoise`` regularization layers.

What differs: the docs show each piece on its own (with ``SGD`` for the schedule); here they form
one ``Sequential`` MLP trained with ``Adam`` for 20 epochs at batch 128.

The docs report no accuracy. ember, full size: 0.888 test accuracy (benchmarks/keras_examples.py
records both libraries). The program also prints the largest incoming-weight norm of each
constrained layer, which ``MaxNorm(3)`` keeps <= 3.

Run: python examples/keras/lr_schedule_regularization.py   (bash scripts/install_data.sh)
"""

import numpy as np

# --- imports: the only lines that differ from the Keras original ---
import ember as keras
from ember import layers

# --- end of imports ---

(x_train, y_train), (x_test, y_test) = keras.datasets.fashion_mnist.load_data()
x_train = x_train.reshape(-1, 784).astype("float32") / 255
x_test = x_test.reshape(-1, 784).astype("float32") / 255

"""
## A learning rate that decays by 4% every 1,000 steps
"""

initial_learning_rate = 1e-3
lr_schedule = keras.optimizers.schedules.ExponentialDecay(
    initial_learning_rate, decay_steps=1000, decay_rate=0.96, staircase=True
)

"""
## An MLP with weight decay, a max-norm constraint, dropout and input noise
"""

model = keras.Sequential(
    [
        keras.Input(shape=(784,)),
        layers.GaussianNoise(0.1),
        layers.Dense(
            512,
            activation="relu",
            kernel_regularizer=keras.regularizers.l2(1e-4),
            kernel_constraint=keras.constraints.MaxNorm(3),
        ),
        layers.Dropout(0.3),
        layers.Dense(
            256,
            activation="relu",
            kernel_regularizer=keras.regularizers.l2(1e-4),
            kernel_constraint=keras.constraints.MaxNorm(3),
        ),
        layers.Dropout(0.3),
        layers.Dense(10, activation="softmax"),
    ]
)
model.summary()

model.compile(
    optimizer=keras.optimizers.Adam(learning_rate=lr_schedule),
    loss="sparse_categorical_crossentropy",
    metrics=["accuracy"],
)
history = model.fit(x_train, y_train, batch_size=128, epochs=20, validation_split=0.1)

test_loss, test_acc = model.evaluate(x_test, y_test, verbose=2)
print("Test accuracy:", test_acc)

steps_run = len(history.history["loss"]) * int(np.ceil(0.9 * len(x_train) / 128))
print("Final learning rate:", float(lr_schedule(steps_run)))
kernel_norms = [
    float(np.linalg.norm(layer.get_weights()[0], axis=0).max())
    for layer in model.layers
    if isinstance(layer, layers.Dense) and layer.kernel_constraint is not None
]
print("Largest incoming-weight norm of the constrained layers:", kernel_norms)
