"""The functional API guide's MNIST model, with only the imports changed.

Keras source: "The Functional API" guide by fchollet, sections "Introduction" and "Training,
evaluation, and inference", https://keras.io/guides/functional_api/ (``keras.Input(shape=(784,))``,
layers called on symbolic tensors, ``keras.Model(inputs, outputs)``, ``from_logits=True``
cross-entropy, ``RMSprop``). The guide's ``plot_model`` calls and the later sections are left
out (the later sections are the examples ``functional_autoencoder.py``,
``multi_input_multi_output.py`` and ``toy_resnet.py``).

Keras reports ~96% test accuracy after 2 epochs (0.9605 in the guide's printed output; 0.9585
for Keras 3.15 and 0.9581 for ember on this machine, see README.md).

Run: python examples/keras/functional_mnist_mlp.py   (needs MNIST: bash scripts/install_data.sh)
"""

# --- imports: the only lines that differ from the Keras original ---
import ember as keras
from ember import layers

# --- end of imports ---

"""
## Introduction
"""

inputs = keras.Input(shape=(784,))

# Just for demonstration purposes.
img_inputs = keras.Input(shape=(32, 32, 3))

print(inputs.shape)
print(inputs.dtype)

dense = layers.Dense(64, activation="relu")
x = dense(inputs)

x = layers.Dense(64, activation="relu")(x)
outputs = layers.Dense(10)(x)

model = keras.Model(inputs=inputs, outputs=outputs, name="mnist_model")

model.summary()

"""
## Training, evaluation, and inference
"""

(x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()

x_train = x_train.reshape(60000, 784).astype("float32") / 255
x_test = x_test.reshape(10000, 784).astype("float32") / 255

model.compile(
    loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    optimizer=keras.optimizers.RMSprop(),
    metrics=["accuracy"],
)

history = model.fit(x_train, y_train, batch_size=64, epochs=2, validation_split=0.2)

test_scores = model.evaluate(x_test, y_test, verbose=2)
print("Test loss:", test_scores[0])
print("Test accuracy:", test_scores[1])
