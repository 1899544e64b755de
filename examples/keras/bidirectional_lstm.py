"""Bidirectional LSTM on IMDB, on rotten-tomatoes reviews instead, with only the imports changed.

Keras source: "Bidirectional LSTM on IMDB" by fchollet,
https://keras.io/examples/nlp/bidirectional_lstm_imdb/ (``keras.Input(shape=(None,),
dtype="int32")``, ``Embedding``, two ``Bidirectional(LSTM(64))``, ``keras.utils.pad_sequences``).

What differs: IMDB is not available offline, so the data are the 12,808 Rotten Tomatoes review
snippets coded as ``keras.datasets.imdb.load_data`` codes IMDB (``_data.rotten_tomatoes_sequences``:
word-index lists, 1 = start, 2 = out-of-vocabulary), split 80/20 into training and validation.
The model, ``maxlen`` and the training run (batch 32, 2 epochs) are the original's.

Keras reports val_accuracy 0.8428 after 2 epochs on IMDB (25,000 long reviews); the one-sentence
snippets are harder: ember reaches val_accuracy 0.759 on them (benchmarks/keras_examples.py
records both libraries).

Run: python examples/keras/bidirectional_lstm.py   (needs the reviews: bash scripts/install_data.sh)
"""

# --- imports: the only lines that differ from the Keras original ---
from _data import rotten_tomatoes_sequences

import ember as keras
from ember import layers

# --- end of imports ---

max_features = 20000  # Only consider the top 20k words
maxlen = 200  # Only consider the first 200 words of each movie review

"""
## Build the model
"""

# Input for variable-length sequences of integers
inputs = keras.Input(shape=(None,), dtype="int32")
# Embed each integer in a 128-dimensional vector
x = layers.Embedding(max_features, 128)(inputs)
# Add 2 bidirectional LSTMs
x = layers.Bidirectional(layers.LSTM(64, return_sequences=True))(x)
x = layers.Bidirectional(layers.LSTM(64))(x)
# Add a classifier
outputs = layers.Dense(1, activation="sigmoid")(x)
model = keras.Model(inputs, outputs)
model.summary()

"""
## Load the rotten-tomatoes review sentiment data (the original loads IMDB)
"""

(x_train, y_train), (x_val, y_val) = rotten_tomatoes_sequences(num_words=max_features)
print(len(x_train), "Training sequences")
print(len(x_val), "Validation sequences")
# Use pad_sequence to standardize sequence length:
# this will truncate sequences longer than 200 words and zero-pad sequences shorter than 200 words.
x_train = keras.utils.pad_sequences(x_train, maxlen=maxlen)
x_val = keras.utils.pad_sequences(x_val, maxlen=maxlen)

"""
## Train and evaluate the model
"""

model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
history = model.fit(x_train, y_train, batch_size=32, epochs=2, validation_data=(x_val, y_val))
