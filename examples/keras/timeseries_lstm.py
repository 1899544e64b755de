"""Timeseries forecasting with an LSTM: next year's sunspot number from the previous 24 years.

Keras source: in the style of the keras-io timeseries examples, chiefly "Timeseries forecasting
for weather prediction" by Prabhanshu Attri, Yashika Sharma, Kasana Tejaswi and Nitin Agarwal,
https://keras.io/examples/timeseries/timeseries_weather_forecasting/ (sliding windows of past
values, an ``LSTM(32)`` and a ``Dense(1)`` head trained with mean squared error, Adam at 0.001).

What differs: the data are the 309 yearly sunspot numbers 1700-2008 (``_data.sunspots``,
statsmodels' copy) instead of the Jena weather CSV, which needs a download; the windows are cut
with numpy instead of ``keras.utils.timeseries_dataset_from_array`` (a ``tf.data`` helper); and
the scaling is done by layers: a ``Normalization`` set with ``adapt`` on the training windows
in front of the LSTM and its inverse (``invert=True``) behind the head, so the model reads and
predicts raw sunspot numbers.

There is no published accuracy for this series; the program prints the validation MAE next to
the naive forecast's (next year = this year), which the model beats: about 16 against 25
(ember, full size).

Run: python examples/keras/timeseries_lstm.py   (needs statsmodels for the series)
"""

import numpy as np

# --- imports: the only lines that differ from the Keras original ---
from _data import sunspots

import ember as keras
from ember import layers

# --- end of imports ---

"""
## The series and its windows
"""

years, values = sunspots()
series = values.astype("float32")
print(f"{len(series)} yearly values, {years[0]}-{years[-1]}")

window_size = 24  # two solar cycles of about 11 years
split_fraction = 0.8
train_split = int(split_fraction * len(series))


def make_windows(values, window_size):
    """Every run of `window_size` values (N, window_size, 1) and the value after it (N,)."""
    x = np.stack([values[i : i + window_size] for i in range(len(values) - window_size)])
    return x[..., None], values[window_size:]


x_train, y_train = make_windows(series[:train_split], window_size)
# The validation windows start inside the training years but forecast only later ones.
x_val, y_val = make_windows(series[train_split - window_size :], window_size)
print("Training windows:", x_train.shape, "validation windows:", x_val.shape)

"""
## Scaling layers set from the training windows
"""

normalizer = layers.Normalization()
normalizer.adapt(x_train)
denormalizer = layers.Normalization(invert=True)
denormalizer.adapt(x_train)

"""
## Training
"""

learning_rate = 0.001
batch_size = 32
epochs = 100

inputs = keras.Input(shape=(window_size, 1))
x = normalizer(inputs)
x = layers.LSTM(32)(x)
x = layers.Dense(1)(x)
outputs = denormalizer(x)

model = keras.Model(inputs=inputs, outputs=outputs)
model.compile(
    optimizer=keras.optimizers.Adam(learning_rate=learning_rate), loss="mse", metrics=["mae"]
)
model.summary()

history = model.fit(
    x_train, y_train, batch_size=batch_size, epochs=epochs, validation_data=(x_val, y_val)
)

"""
## The forecast against the naive one
"""

val_loss, val_mae = model.evaluate(x_val, y_val, verbose=0)
naive_mae = float(np.mean(np.abs(x_val[:, -1, 0] - y_val)))
print(f"Validation MAE: LSTM {val_mae:.1f}, naive (next year = this year) {naive_mae:.1f}")
