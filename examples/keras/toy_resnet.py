"""The functional API guide's toy ResNet for CIFAR-10, with only the imports changed.

Keras source: "The Functional API" guide by fchollet, section "A toy ResNet model",
https://keras.io/guides/functional_api/ (residual connections with ``layers.add``,
``GlobalAveragePooling2D``, ``to_categorical``, ``from_logits=True`` cross-entropy, the metric
named ``"acc"``). Its ``plot_model`` call is left out. The guide trains one epoch on the first
1,000 images "to limit execution time" and reports no accuracy; added at the end (marked
"Added"): the test accuracy after that epoch (chance is 0.1).

CIFAR-10 is read by ``keras.datasets.cifar10.load_data()``: put the binary release,
``cifar-10-binary.tar.gz``, in ``$EMBER_DATA/cifar-10/`` (the tests write a small file in the
real format with ``ember.datasets.fixtures.write_cifar10_binary``).

Run: python examples/keras/toy_resnet.py
"""

# --- imports: the only lines that differ from the Keras original ---
import ember as keras
from ember import layers

# --- end of imports ---

inputs = keras.Input(shape=(32, 32, 3), name="img")
x = layers.Conv2D(32, 3, activation="relu")(inputs)
x = layers.Conv2D(64, 3, activation="relu")(x)
block_1_output = layers.MaxPooling2D(3)(x)

x = layers.Conv2D(64, 3, activation="relu", padding="same")(block_1_output)
x = layers.Conv2D(64, 3, activation="relu", padding="same")(x)
block_2_output = layers.add([x, block_1_output])

x = layers.Conv2D(64, 3, activation="relu", padding="same")(block_2_output)
x = layers.Conv2D(64, 3, activation="relu", padding="same")(x)
block_3_output = layers.add([x, block_2_output])

x = layers.Conv2D(64, 3, activation="relu")(block_3_output)
x = layers.GlobalAveragePooling2D()(x)
x = layers.Dense(256, activation="relu")(x)
x = layers.Dropout(0.5)(x)
outputs = layers.Dense(10)(x)

model = keras.Model(inputs, outputs, name="toy_resnet")
model.summary()

"""
Now train the model:
"""

(x_train, y_train), (x_test, y_test) = keras.datasets.cifar10.load_data()

x_train = x_train.astype("float32") / 255.0
x_test = x_test.astype("float32") / 255.0
y_train = keras.utils.to_categorical(y_train, 10)
y_test = keras.utils.to_categorical(y_test, 10)

model.compile(
    optimizer=keras.optimizers.RMSprop(1e-3),
    loss=keras.losses.CategoricalCrossentropy(from_logits=True),
    metrics=["acc"],
)
# We restrict the data to the first 1000 samples so as to limit execution time
# on Colab. Try to train on the entire dataset until convergence!
history = model.fit(
    x_train[:1000],
    y_train[:1000],
    batch_size=64,
    epochs=1,
    validation_split=0.2,
)

"""
## Added: evaluate on the test set
"""

test_loss, test_acc = model.evaluate(x_test, y_test, verbose=2)
print("Test accuracy:", test_acc)
