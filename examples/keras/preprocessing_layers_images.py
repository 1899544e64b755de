"""Working with preprocessing layers: image augmentation and normalization, on Fashion-MNIST.

Keras source: the guide "Working with preprocessing layers" by Francois Chollet and Mark
Omernick, https://keras.io/guides/preprocessing_layers/, its quick recipes "Image data
augmentation" (a ``data_augmentation`` Sequential of ``RandomFlip``, ``RandomRotation`` and
``RandomZoom``, then ``Rescaling(1.0 / 255)``) and "Normalizing numerical features"
(``Normalization`` set with ``adapt`` on the training data).

What differs: the guide trains an untrained ResNet50 for 5 steps on CIFAR-10 (a demo, no
accuracy reported) and maps the augmentation over a ``tf.data`` pipeline; here the same
preprocessing layers sit inside a small convnet ("option 1: make them part of the model",
which the guide recommends for augmentation on a GPU) trained on Fashion-MNIST for 10 epochs.
The images get a channel axis (``x[..., None]``) because the layers take channels-last images.

The guide reports no accuracy. ember, full size: 0.846 test accuracy after 10 epochs
(benchmarks/keras_examples.py records both libraries on this program).

Run: python examples/keras/preprocessing_layers_images.py   (bash scripts/install_data.sh)
"""

# --- imports: the only lines that differ from the Keras original ---
import ember as keras
from ember import layers

# --- end of imports ---

"""
## Image data augmentation

Note that image data augmentation layers are only active during training (similarly to
the `Dropout` layer).
"""

# Create a data augmentation stage with horizontal flipping, rotations, zooms
data_augmentation = keras.Sequential(
    [
        layers.RandomFlip("horizontal"),
        layers.RandomRotation(0.1),
        layers.RandomZoom(0.1),
    ]
)

# Load some data
(x_train, y_train), (x_test, y_test) = keras.datasets.fashion_mnist.load_data()
x_train = x_train[..., None].astype("float32")  # (N, 28, 28, 1): channels last
x_test = x_test[..., None].astype("float32")
input_shape = x_train.shape[1:]
classes = 10

"""
## Normalizing numerical features
"""

# Create a Normalization layer and set its internal state using the training data
# (rescaled as the model rescales them: one mean and variance for the one channel)
normalizer = layers.Normalization()
normalizer.adapt(x_train / 255.0)

"""
## A model that includes the preprocessing layers
"""

inputs = keras.Input(shape=input_shape)
x = data_augmentation(inputs)  # Only active in fit()
x = layers.Rescaling(1.0 / 255)(x)  # Rescale inputs
x = normalizer(x)  # Zero mean, unit variance
x = layers.Conv2D(32, 3, activation="relu")(x)
x = layers.MaxPooling2D()(x)
x = layers.Conv2D(64, 3, activation="relu")(x)
x = layers.MaxPooling2D()(x)
x = layers.Flatten()(x)
x = layers.Dropout(0.5)(x)
outputs = layers.Dense(classes, activation="softmax")(x)
model = keras.Model(inputs, outputs)
model.summary()

model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
history = model.fit(x_train, y_train, batch_size=128, epochs=10, validation_split=0.1)

test_loss, test_acc = model.evaluate(x_test, y_test, verbose=2)
print("Test accuracy:", test_acc)
