"""The functional API guide's encoder, decoder and autoencoder, with only the imports changed.

Keras source: "The Functional API" guide by fchollet, sections "Use the same graph of layers to
define multiple models" and "All models are callable, just like layers",
https://keras.io/guides/functional_api/ (``Conv2D``, ``MaxPooling2D``, ``GlobalMaxPooling2D``,
``Reshape``, ``Conv2DTranspose``, ``UpSampling2D``; models used as layers, and the guide's
ensemble of three models averaged with ``layers.average``).

The guide only builds these models. Added at the end (marked "Added"): the autoencoder trains
for 5 epochs on MNIST with the mean squared error, and the output shape is checked to equal the
input shape, (28, 28, 1), as the guide says it does. The guide reports no accuracy; the number
to compare is the test reconstruction error (``test_mse``).

Run: python examples/keras/functional_autoencoder.py   (needs MNIST: bash scripts/install_data.sh)
"""

import numpy as np

# --- imports: the only lines that differ from the Keras original ---
import ember as keras
from ember import layers

# --- end of imports ---

"""
## Use the same graph of layers to define multiple models
"""

encoder_input = keras.Input(shape=(28, 28, 1), name="img")
x = layers.Conv2D(16, 3, activation="relu")(encoder_input)
x = layers.Conv2D(32, 3, activation="relu")(x)
x = layers.MaxPooling2D(3)(x)
x = layers.Conv2D(32, 3, activation="relu")(x)
x = layers.Conv2D(16, 3, activation="relu")(x)
encoder_output = layers.GlobalMaxPooling2D()(x)

encoder = keras.Model(encoder_input, encoder_output, name="encoder")
encoder.summary()

x = layers.Reshape((4, 4, 1))(encoder_output)
x = layers.Conv2DTranspose(16, 3, activation="relu")(x)
x = layers.Conv2DTranspose(32, 3, activation="relu")(x)
x = layers.UpSampling2D(3)(x)
x = layers.Conv2DTranspose(16, 3, activation="relu")(x)
decoder_output = layers.Conv2DTranspose(1, 3, activation="relu")(x)

autoencoder = keras.Model(encoder_input, decoder_output, name="autoencoder")
autoencoder.summary()

"""
## All models are callable, just like layers
"""

encoder_input = keras.Input(shape=(28, 28, 1), name="original_img")
x = layers.Conv2D(16, 3, activation="relu")(encoder_input)
x = layers.Conv2D(32, 3, activation="relu")(x)
x = layers.MaxPooling2D(3)(x)
x = layers.Conv2D(32, 3, activation="relu")(x)
x = layers.Conv2D(16, 3, activation="relu")(x)
encoder_output = layers.GlobalMaxPooling2D()(x)

encoder = keras.Model(encoder_input, encoder_output, name="encoder")
encoder.summary()

decoder_input = keras.Input(shape=(16,), name="encoded_img")
x = layers.Reshape((4, 4, 1))(decoder_input)
x = layers.Conv2DTranspose(16, 3, activation="relu")(x)
x = layers.Conv2DTranspose(32, 3, activation="relu")(x)
x = layers.UpSampling2D(3)(x)
x = layers.Conv2DTranspose(16, 3, activation="relu")(x)
decoder_output = layers.Conv2DTranspose(1, 3, activation="relu")(x)

decoder = keras.Model(decoder_input, decoder_output, name="decoder")
decoder.summary()

autoencoder_input = keras.Input(shape=(28, 28, 1), name="img")
encoded_img = encoder(autoencoder_input)
decoded_img = decoder(encoded_img)
autoencoder = keras.Model(autoencoder_input, decoded_img, name="autoencoder")
autoencoder.summary()


def get_model():
    inputs = keras.Input(shape=(128,))
    outputs = layers.Dense(1)(inputs)
    return keras.Model(inputs, outputs)


model1 = get_model()
model2 = get_model()
model3 = get_model()

inputs = keras.Input(shape=(128,))
y1 = model1(inputs)
y2 = model2(inputs)
y3 = model3(inputs)
outputs = layers.average([y1, y2, y3])
ensemble_model = keras.Model(inputs=inputs, outputs=outputs)

"""
## Added: train the autoencoder on MNIST and check its shapes
"""

(x_train, _), (x_test, _) = keras.datasets.mnist.load_data()
x_train = np.expand_dims(x_train.astype("float32") / 255, -1)
x_test = np.expand_dims(x_test.astype("float32") / 255, -1)

autoencoder.compile(optimizer="adam", loss="mse")
history = autoencoder.fit(x_train, x_train, batch_size=128, epochs=5, validation_split=0.1)
test_mse = autoencoder.evaluate(x_test, x_test, verbose=0)
print("Test reconstruction MSE:", test_mse)

reconstructed = autoencoder.predict(x_test[:8])
codes = encoder.predict(x_test[:8])
assert reconstructed.shape[1:] == (28, 28, 1), reconstructed.shape  # the input's shape
assert codes.shape[1:] == (16,), codes.shape
ensemble_outputs = ensemble_model.predict(np.random.random((4, 128)).astype("float32"))
assert ensemble_outputs.shape[1:] == (1,), ensemble_outputs.shape
