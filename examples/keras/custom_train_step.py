"""Customizing what happens in ``fit()`` with PyTorch: ``train_step`` and ``test_step``.

Keras source: "Customizing what happens in `fit()` with PyTorch" guide by fchollet,
https://keras.io/guides/custom_train_step_in_torch/ (sections "A first simple example",
"Supporting `sample_weight` & `class_weight`" and "Providing your own evaluation step"; a
``CustomModel`` subclass of ``keras.Model`` built with the functional API, random data as in the
guide). Its "Going lower-level" section (metric objects of your own) and its GAN are left out.

This is the one example that differs beyond the imports, in the way ember documents: in ember,
``train_step`` returns ``{"loss": loss, ...}`` and the engine runs ``loss.backward()`` and the
optimizer step. The guide's lines that do these by hand are kept as ``# keras:`` comments under
``# ember: the engine runs backward and the optimizer step``; ``run_with_keras.py`` uncomments
them when it runs this file under Keras. The guide's loop over ``self.metrics`` is written with
Keras' ``self.compute_metrics(x, y, y_pred)`` (the call Keras' own ``train_step`` ends with), which
ember has too.

The data is random, so the guide reports no accuracy; the number to compare is the final loss
of ``evaluate`` (``scores``), near the variance of uniform targets around their mean (~0.08).

Run: python examples/keras/custom_train_step.py
"""

import os

# This guide can only be run with the torch backend.
os.environ["KERAS_BACKEND"] = "torch"

import numpy as np
import torch  # noqa: F401 (used by the Keras-only lines, kept as `# keras:` comments)

# --- imports: the only lines that differ from the Keras original ---
import ember as keras

# --- end of imports ---

"""
## A first simple example
"""


class CustomModel(keras.Model):
    def train_step(self, data):
        # Unpack the data. Its structure depends on your model and
        # on what you pass to `fit()`.
        x, y = data

        # Call torch.nn.Module.zero_grad() to clear the leftover gradients
        # for the weights from the previous train step.
        self.zero_grad()

        # Compute loss
        y_pred = self(x, training=True)  # Forward pass
        loss = self.compute_loss(y=y, y_pred=y_pred)

        # ember: the engine runs backward and the optimizer step
        # keras: loss.backward()
        # keras: trainable_weights = [v for v in self.trainable_weights]
        # keras: gradients = [v.value.grad for v in trainable_weights]
        # keras: with torch.no_grad():
        # keras:     self.optimizer.apply(gradients, trainable_weights)

        # Update the compiled metrics and return them with the loss
        return {**self.compute_metrics(x, y, y_pred), "loss": loss}


# Construct and compile an instance of CustomModel
inputs = keras.Input(shape=(32,))
outputs = keras.layers.Dense(1)(inputs)
model = CustomModel(inputs, outputs)
model.compile(optimizer="adam", loss="mse", metrics=["mae"])

# Just use `fit` as usual
x = np.random.random((1000, 32))
y = np.random.random((1000, 1))
history = model.fit(x, y, epochs=3)

"""
## Supporting `sample_weight` & `class_weight`
"""


class CustomModel(keras.Model):
    def train_step(self, data):
        # Unpack the data. Its structure depends on your model and
        # on what you pass to `fit()`.
        if len(data) == 3:
            x, y, sample_weight = data
        else:
            sample_weight = None
            x, y = data

        # Call torch.nn.Module.zero_grad() to clear the leftover gradients
        # for the weights from the previous train step.
        self.zero_grad()

        # Compute loss
        y_pred = self(x, training=True)  # Forward pass
        loss = self.compute_loss(
            y=y,
            y_pred=y_pred,
            sample_weight=sample_weight,
        )

        # ember: the engine runs backward and the optimizer step
        # keras: loss.backward()
        # keras: trainable_weights = [v for v in self.trainable_weights]
        # keras: gradients = [v.value.grad for v in trainable_weights]
        # keras: with torch.no_grad():
        # keras:     self.optimizer.apply(gradients, trainable_weights)

        # Update the compiled metrics and return them with the loss
        return {
            **self.compute_metrics(x, y, y_pred, sample_weight=sample_weight),
            "loss": loss,
        }


# Construct and compile an instance of CustomModel
inputs = keras.Input(shape=(32,))
outputs = keras.layers.Dense(1)(inputs)
model = CustomModel(inputs, outputs)
model.compile(optimizer="adam", loss="mse", metrics=["mae"])

# You can now use sample_weight argument
x = np.random.random((1000, 32))
y = np.random.random((1000, 1))
sw = np.random.random((1000, 1))
weighted_history = model.fit(x, y, sample_weight=sw, epochs=3)

"""
## Providing your own evaluation step
"""


class CustomModel(keras.Model):
    def test_step(self, data):
        # Unpack the data
        x, y = data
        # Compute predictions
        y_pred = self(x, training=False)
        # Updates the metrics tracking the loss
        loss = self.compute_loss(y=y, y_pred=y_pred)
        # Update the compiled metrics and return them with the loss
        return {**self.compute_metrics(x, y, y_pred), "loss": loss}


# Construct an instance of CustomModel
inputs = keras.Input(shape=(32,))
outputs = keras.layers.Dense(1)(inputs)
model = CustomModel(inputs, outputs)
model.compile(loss="mse", metrics=["mae"])

# Evaluate with our custom test_step
x = np.random.random((1000, 32))
y = np.random.random((1000, 1))
scores = model.evaluate(x, y)
