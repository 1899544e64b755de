"""The subclassing guide's layers and a subclassed model, with only the imports changed.

Keras source: "Making new layers and models via subclassing" guide by fchollet,
https://keras.io/guides/making_new_layers_and_models_via_subclassing/ (``Linear`` with
``add_weight`` in ``__init__`` and then in ``build``, ``ComputeSum`` with a non-trainable weight
updated by ``assign_add``, ``MLPBlock`` made of ``Linear`` layers, ``keras.activations.relu``,
``keras.ops``). The guide's ``add_loss`` sections and its VAE are left out, and so are the
``get_config``/``CustomDropout``/mask sections (no training in them).

The guide's ``Model`` section trains a subclassed model only in prose ("resnet.fit(dataset)").
Added at the end (marked "Added"): a subclassed ``keras.Model`` made of the guide's ``Linear``
layers (the size of the functional API guide's MNIST model, which reaches ~96% in 2 epochs),
trained with ``fit`` on MNIST for 2 epochs and evaluated.

Run: python examples/keras/subclassing_layers_and_models.py   (needs MNIST)
"""

# --- imports: the only lines that differ from the Keras original ---
import ember as keras
from ember import ops

# --- end of imports ---

"""
## The `Layer` class: the combination of state (weights) and some computation
"""


class Linear(keras.layers.Layer):
    def __init__(self, units=32, input_dim=32):
        super().__init__()
        self.w = self.add_weight(
            shape=(input_dim, units),
            initializer="random_normal",
            trainable=True,
        )
        self.b = self.add_weight(shape=(units,), initializer="zeros", trainable=True)

    def call(self, inputs):
        return ops.matmul(inputs, self.w) + self.b


x = ops.ones((2, 2))
linear_layer = Linear(4, 2)
y = linear_layer(x)
print(y)

assert linear_layer.weights == [linear_layer.w, linear_layer.b]

"""
## Layers can have non-trainable weights
"""


class ComputeSum(keras.layers.Layer):
    def __init__(self, input_dim):
        super().__init__()
        self.total = self.add_weight(initializer="zeros", shape=(input_dim,), trainable=False)

    def call(self, inputs):
        self.total.assign_add(ops.sum(inputs, axis=0))
        return self.total


x = ops.ones((2, 2))
my_sum = ComputeSum(2)
y = my_sum(x)
print(y.numpy())
y = my_sum(x)
print(y.numpy())

print("weights:", len(my_sum.weights))
print("non-trainable weights:", len(my_sum.non_trainable_weights))

# It's not included in the trainable weights:
print("trainable_weights:", my_sum.trainable_weights)

"""
## Best practice: deferring weight creation until the shape of the inputs is known
"""


class Linear(keras.layers.Layer):
    def __init__(self, units=32):
        super().__init__()
        self.units = units

    def build(self, input_shape):
        self.w = self.add_weight(
            shape=(input_shape[-1], self.units),
            initializer="random_normal",
            trainable=True,
        )
        self.b = self.add_weight(shape=(self.units,), initializer="random_normal", trainable=True)

    def call(self, inputs):
        return ops.matmul(inputs, self.w) + self.b


# At instantiation, we don't know on what inputs this is going to get called
linear_layer = Linear(32)

# The layer's weights are created dynamically the first time the layer is called
y = linear_layer(x)

"""
## Layers are recursively composable
"""


class MLPBlock(keras.layers.Layer):
    def __init__(self):
        super().__init__()
        self.linear_1 = Linear(32)
        self.linear_2 = Linear(32)
        self.linear_3 = Linear(1)

    def call(self, inputs):
        x = self.linear_1(inputs)
        x = keras.activations.relu(x)
        x = self.linear_2(x)
        x = keras.activations.relu(x)
        return self.linear_3(x)


mlp = MLPBlock()
y = mlp(ops.ones(shape=(3, 64)))  # The first call to the `mlp` will create the weights
print("weights:", len(mlp.weights))
print("trainable weights:", len(mlp.trainable_weights))

"""
## Added: a subclassed `Model`, trained with `fit()` on MNIST
"""


class MLP(keras.Model):
    def __init__(self, num_classes=10):
        super().__init__()
        self.linear_1 = Linear(64)
        self.linear_2 = Linear(64)
        self.classifier = Linear(num_classes)

    def call(self, inputs):
        x = keras.activations.relu(self.linear_1(inputs))
        x = keras.activations.relu(self.linear_2(x))
        return self.classifier(x)


(x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
x_train = x_train.reshape(len(x_train), 784).astype("float32") / 255
x_test = x_test.reshape(len(x_test), 784).astype("float32") / 255

model = MLP()
model.compile(
    optimizer=keras.optimizers.RMSprop(),
    loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    metrics=["accuracy"],
)
history = model.fit(x_train, y_train, batch_size=64, epochs=2, validation_split=0.2)
test_loss, test_acc = model.evaluate(x_test, y_test, verbose=2)
print("Test accuracy:", test_acc)
