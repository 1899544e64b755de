"""Transfer learning on MNIST: a convnet trained on digits 0-4, reused frozen for digits 5-9.

Keras sources: the classic Keras example "mnist_transfer_cnn.py" (keras-team/keras,
examples/mnist_transfer_cnn.py: train a convnet on the digits 0-4, freeze its feature layers,
train the classifier on the digits 5-9), written with the workflow of Keras' "Transfer learning &
fine-tuning" guide, https://keras.io/guides/transfer_learning/ (``base_model.trainable = False``,
a new head built with the functional API calling the base with ``training=False``, then
unfreezing and fine-tuning end to end with a very low learning rate after recompiling).

What differs from the 2016 script: Keras 3 layer names (``Conv2D``), ``keras.Input`` and a new
functional head instead of retraining the old one; Adam, as in the guide, instead of the
script's Adadelta (Keras 3's Adadelta defaults to a 1000 times smaller learning rate than the
script had, and ember has no Adadelta).

The script reports 99.8% test accuracy on the digits 0-4 after 5 epochs and 99.2% on the digits
5-9 after the transfer.

Run: python examples/keras/transfer_learning_mnist.py   (needs MNIST)
"""

# --- imports: the only lines that differ from the Keras original ---
import ember as keras
from ember import layers

# --- end of imports ---

batch_size = 128
num_classes = 5
epochs = 5

# input image dimensions
img_rows, img_cols = 28, 28
# number of convolutional filters to use
filters = 32
# size of pooling area for max pooling
pool_size = 2
# convolution kernel size
kernel_size = 3

input_shape = (img_rows, img_cols, 1)


def prepare(x, y):
    x = x.reshape((x.shape[0],) + input_shape).astype("float32") / 255
    return x, keras.utils.to_categorical(y, num_classes)


def train_model(model, train, test, learning_rate=1e-3):
    x_train, y_train = prepare(*train)
    x_test, y_test = prepare(*test)
    print(x_train.shape[0], "train samples")
    print(x_test.shape[0], "test samples")

    model.compile(
        loss="categorical_crossentropy",
        optimizer=keras.optimizers.Adam(learning_rate),
        metrics=["accuracy"],
    )
    model.fit(
        x_train,
        y_train,
        batch_size=batch_size,
        epochs=epochs,
        verbose=1,
        validation_data=(x_test, y_test),
    )
    score = model.evaluate(x_test, y_test, verbose=0)
    print("Test score:", score[0])
    print("Test accuracy:", score[1])
    return score[1]


# the data, shuffled and split between train and test sets
(x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()

# create two datasets one with digits below 5 and one with 5 and above
x_train_lt5 = x_train[y_train < 5]
y_train_lt5 = y_train[y_train < 5]
x_test_lt5 = x_test[y_test < 5]
y_test_lt5 = y_test[y_test < 5]

x_train_gte5 = x_train[y_train >= 5]
y_train_gte5 = y_train[y_train >= 5] - 5  # make classes start at 0 for to_categorical
x_test_gte5 = x_test[y_test >= 5]
y_test_gte5 = y_test[y_test >= 5] - 5

# define two groups of layers: feature (convolutions) and classification (dense)
base_model = keras.Sequential(
    [
        keras.Input(shape=input_shape),
        layers.Conv2D(filters, kernel_size, padding="valid", activation="relu"),
        layers.Conv2D(filters, kernel_size, activation="relu"),
        layers.MaxPooling2D(pool_size=pool_size),
        layers.Dropout(0.25),
        layers.Flatten(),
    ],
    name="features",
)
classification_layers = [
    layers.Dense(128, activation="relu"),
    layers.Dropout(0.5),
    layers.Dense(num_classes, activation="softmax"),
]

# create complete model
model = keras.Sequential([base_model, *classification_layers])

# train model for 5-digit classification [0..4]
first_acc = train_model(model, (x_train_lt5, y_train_lt5), (x_test_lt5, y_test_lt5))

# freeze the feature layers
base_model.trainable = False

# transfer: a new classifier on top of the frozen features, for the digits [5..9]
inputs = keras.Input(shape=input_shape)
# The base model runs in inference mode (its Dropout is off), as the guide recommends.
x = base_model(inputs, training=False)
x = layers.Dense(128, activation="relu")(x)
x = layers.Dropout(0.5)(x)
outputs = layers.Dense(num_classes, activation="softmax")(x)
transfer_model = keras.Model(inputs, outputs)
transfer_model.summary()

frozen_acc = train_model(transfer_model, (x_train_gte5, y_train_gte5), (x_test_gte5, y_test_gte5))

# fine-tuning: unfreeze the base model and train end to end with a very low learning rate
# (recompiling, as the guide says, so that the change is taken into account)
base_model.trainable = True
test_acc = train_model(
    transfer_model,
    (x_train_gte5, y_train_gte5),
    (x_test_gte5, y_test_gte5),
    learning_rate=1e-5,
)

print("Test accuracy, digits 0-4:", first_acc)
print("Test accuracy, digits 5-9, frozen features:", frozen_acc)
print("Test accuracy, digits 5-9, fine-tuned:", test_acc)
