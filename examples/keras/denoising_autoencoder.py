"""Convolutional autoencoder for image denoising, from keras-io, with only the imports changed.

Keras source: "Convolutional autoencoder for image denoising" by Santiago L. Valdarrama,
https://keras.io/examples/vision/autoencoder/ (functional API, ``Conv2D``, ``MaxPooling2D``,
``Conv2DTranspose(strides=2)``, binary cross-entropy; trained to reconstruct MNIST digits for 50
epochs, then to denoise them for 100). The example's ``display`` function (matplotlib figures of
ten digits) is left out; nothing else differs.

The example reports no accuracy, only pictures; its printed log ends at a validation loss
(binary cross-entropy) of 0.0622 after the 50 reconstruction epochs (``history``) and about 0.084
after the 100 denoising epochs (``denoise_history.history["val_loss"][-1]``).

Run: python examples/keras/denoising_autoencoder.py   (needs MNIST)
"""

import numpy as np

# --- imports: the only lines that differ from the Keras original ---
from ember import layers
from ember.datasets import mnist
from ember.models import Model

# --- end of imports ---


def preprocess(array):
    """
    Normalizes the supplied array and reshapes it into the appropriate format.
    """

    array = array.astype("float32") / 255.0
    array = np.reshape(array, (len(array), 28, 28, 1))
    return array


def noise(array):
    """
    Adds random noise to each image in the supplied array.
    """

    noise_factor = 0.4
    noisy_array = array + noise_factor * np.random.normal(loc=0.0, scale=1.0, size=array.shape)

    return np.clip(noisy_array, 0.0, 1.0)


"""
## Prepare the data
"""

# Since we only need images from the dataset to encode and decode, we
# won't use the labels.
(train_data, _), (test_data, _) = mnist.load_data()

# Normalize and reshape the data
train_data = preprocess(train_data)
test_data = preprocess(test_data)

# Create a copy of the data with added noise
noisy_train_data = noise(train_data)
noisy_test_data = noise(test_data)

"""
## Build the autoencoder

We are going to use the Functional API to build our convolutional autoencoder.
"""

input = layers.Input(shape=(28, 28, 1))

# Encoder
x = layers.Conv2D(32, (3, 3), activation="relu", padding="same")(input)
x = layers.MaxPooling2D((2, 2), padding="same")(x)
x = layers.Conv2D(32, (3, 3), activation="relu", padding="same")(x)
x = layers.MaxPooling2D((2, 2), padding="same")(x)

# Decoder
x = layers.Conv2DTranspose(32, (3, 3), strides=2, activation="relu", padding="same")(x)
x = layers.Conv2DTranspose(32, (3, 3), strides=2, activation="relu", padding="same")(x)
x = layers.Conv2D(1, (3, 3), activation="sigmoid", padding="same")(x)

# Autoencoder
autoencoder = Model(input, x)
autoencoder.compile(optimizer="adam", loss="binary_crossentropy")
autoencoder.summary()

"""
Now we can train our autoencoder using `train_data` as both our input data
and target. Notice we are setting up the validation data using the same
format.
"""

history = autoencoder.fit(
    x=train_data,
    y=train_data,
    epochs=50,
    batch_size=128,
    shuffle=True,
    validation_data=(test_data, test_data),
)

"""
Let's predict on our test dataset and display the original image together with
the prediction from our autoencoder.
"""

predictions = autoencoder.predict(test_data)

"""
Now that we know that our autoencoder works, let's retrain it using the noisy
data as our input and the clean data as our target. We want our autoencoder to
learn how to denoise the images.
"""

denoise_history = autoencoder.fit(
    x=noisy_train_data,
    y=train_data,
    epochs=100,
    batch_size=128,
    shuffle=True,
    validation_data=(noisy_test_data, test_data),
)

"""
Let's now predict on the noisy data and display the results of our autoencoder.
"""

predictions = autoencoder.predict(noisy_test_data)
