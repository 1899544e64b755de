"""The functional API: Input, layers on symbolic tensors, Model(inputs, outputs)."""

import numpy as np
import pytest
import torch

import ember
from ember import layers


def _mlp() -> ember.Model:
    inputs = ember.Input(shape=(6,), name="features")
    x = layers.Dense(8, activation="relu")(inputs)
    outputs = layers.Dense(3, activation="softmax")(x)
    return ember.Model(inputs=inputs, outputs=outputs, name="mlp")


def test_functional_model_computes_what_its_layers_compute():
    model = _mlp()
    first, second = model.layers
    x = torch.randn(5, 6)
    expected = torch.softmax(second.call(torch.relu(first.call(x))), -1)
    assert type(model).__name__ == "Functional" and isinstance(model, ember.Model)
    assert [layer.name for layer in model.layers] == ["dense", "dense_1"]
    assert model.get_layer("dense_1") is second
    torch.testing.assert_close(model(x), expected)
    assert model.count_params() == 6 * 8 + 8 + 8 * 3 + 3
    assert model.input_shape == (None, 6) and model.output_shape == (None, 3)


def test_functional_training_fuses_softmax_into_the_loss_like_sequential():
    torch.manual_seed(0)
    functional = _mlp()
    sequential = ember.Sequential(
        [layers.Dense(8, activation="relu"), layers.Dense(3, activation="softmax")]
    )
    sequential.build((None, 6))
    sequential.load_state_dict(
        {k.replace("layers.", "layers."): v for k, v in functional.state_dict().items()}
    )
    x, y = torch.randn(64, 6), torch.randint(0, 3, (64,))
    for model in (functional, sequential):
        model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", device="cpu")
    assert functional.final_activation() == "softmax"
    a = functional.fit(x, y, epochs=2, batch_size=16, shuffle=False, verbose=0).history["loss"]
    b = sequential.fit(x, y, epochs=2, batch_size=16, shuffle=False, verbose=0).history["loss"]
    assert a == pytest.approx(b, rel=1e-6)


def test_several_inputs_and_outputs_with_weighted_losses():
    torch.manual_seed(0)
    image, meta = ember.Input(shape=(8,), name="image"), ember.Input(shape=(2,), name="meta")
    joined = layers.concatenate([layers.Dense(4)(image), meta])
    kind = layers.Dense(3, name="kind")(joined)
    size = layers.Dense(1, name="size")(joined)
    model = ember.Model([image, meta], {"kind": kind, "size": size})
    model.compile(
        optimizer="sgd",
        loss={"kind": "sparse_categorical_crossentropy", "size": "mse"},
        loss_weights={"kind": 1.0, "size": 0.5},
        metrics={"kind": ["accuracy"]},
        from_logits=True,
        device="cpu",
    )
    x = [np.random.randn(40, 8).astype("float32"), np.random.randn(40, 2).astype("float32")]
    y = {"kind": np.random.randint(0, 3, 40), "size": np.random.randn(40, 1).astype("float32")}
    logs = model.evaluate(x, y, verbose=0, return_dict=True)
    with torch.no_grad():
        out = model([torch.from_numpy(a) for a in x])
    kind_loss = torch.nn.functional.cross_entropy(out["kind"], torch.from_numpy(y["kind"]))
    size_loss = torch.nn.functional.mse_loss(out["size"], torch.from_numpy(y["size"]))
    assert logs["kind_loss"] == pytest.approx(float(kind_loss), rel=1e-5)
    assert logs["size_loss"] == pytest.approx(float(size_loss), rel=1e-5)
    assert logs["loss"] == pytest.approx(float(kind_loss + 0.5 * size_loss), rel=1e-5)
    history = model.fit(x, y, epochs=2, batch_size=8, validation_split=0.25, verbose=0).history
    assert {"loss", "kind_loss", "size_loss", "kind_accuracy", "val_kind_accuracy"} <= set(history)
    predicted = model.predict(x)
    assert predicted["kind"].shape == (40, 3) and predicted["size"].shape == (40, 1)
    by_name = model.predict({"image": x[0], "meta": x[1]})
    np.testing.assert_allclose(by_name["size"], predicted["size"], rtol=1e-6)


def test_a_shared_layer_has_one_set_of_weights():
    a, b = ember.Input(shape=(4,)), ember.Input(shape=(4,))
    shared = layers.Dense(2)
    model = ember.Model([a, b], shared(a) - shared(b))
    assert model.count_params() == 10 and len(model.layers) == 2  # Dense and the subtraction
    x1, x2 = torch.randn(3, 4), torch.randn(3, 4)
    torch.testing.assert_close(model([x1, x2]), (x1 - x2) @ shared.weight.T)


def test_nested_model_called_with_training_false_keeps_batch_norm_in_inference():
    base = ember.Sequential([layers.Dense(4, input_shape=(3,)), layers.BatchNormalization()])
    inputs = ember.Input(shape=(3,))
    model = ember.Model(inputs, layers.Dense(1)(base(inputs, training=False)))
    statistics = base.layers[1].running_mean.clone()
    model.compile(optimizer="sgd", loss="mse", device="cpu")
    model.fit(torch.randn(32, 3) + 5, torch.randn(32, 1), epochs=1, verbose=0)
    torch.testing.assert_close(base.layers[1].running_mean, statistics)  # never updated
    assert base.layers[0].weight.grad is not None  # but its weights trained


def test_none_sizes_take_any_length_or_image_size():
    tokens = ember.Input(shape=(None,), dtype="int32")
    x = layers.Embedding(20, 4, mask_zero=True)(tokens)
    model = ember.Model(tokens, layers.LSTM(3)(x))
    assert model.output_shape == (None, 3)
    for length in (5, 11):
        assert model(torch.randint(1, 20, (2, length))).shape == (2, 3)
    images = ember.Input(shape=(None, None, 3))
    features = layers.Conv2D(4, 3, padding="same")(images)
    assert features.shape == (None, None, None, 4)
    conv = ember.Model(images, layers.GlobalAveragePooling2D()(features))
    assert conv(torch.randn(1, 9, 13, 3)).shape == (1, 4)


def test_masks_flow_through_the_graph_as_in_sequential():
    torch.manual_seed(0)
    tokens = ember.Input(shape=(None,), dtype="int64")
    embedding, lstm = layers.Embedding(10, 4, mask_zero=True), layers.LSTM(3)
    model = ember.Model(tokens, lstm(embedding(tokens)))
    sequential = ember.Sequential([embedding, lstm])
    ids = torch.tensor([[3, 4, 0, 0], [5, 6, 7, 8]])
    torch.testing.assert_close(model(ids), sequential(ids))
    torch.testing.assert_close(model(ids)[0], model(ids[:1, :2])[0])  # padding is skipped


def test_torch_functions_and_operators_become_graph_nodes():
    x = ember.Input(shape=(3,))
    y = torch.relu(x * 2 - 1)[:, :2]
    model = ember.Model(x, y)
    data = torch.tensor([[0.0, 1.0, 2.0]])
    torch.testing.assert_close(model(data), torch.tensor([[0.0, 1.0]]))
    assert y.shape == (None, 2)


def test_save_and_load_round_trip_exactly(tmp_path):
    a, b = ember.Input(shape=(4,), name="a"), ember.Input(shape=(3,), name="b")
    hidden = layers.Dense(5, activation="tanh")(layers.concatenate([a, b]))
    model = ember.Model([a, b], [layers.Dense(2)(hidden), torch.sigmoid(hidden)[:, :1]])
    model.save(tmp_path / "model")
    loaded = ember.load_model(tmp_path / "model")
    data = [torch.randn(6, 4), torch.randn(6, 3)]
    for expected, actual in zip(model(data), loaded(data)):
        assert torch.equal(expected, actual)
    assert [layer.name for layer in loaded.layers] == [layer.name for layer in model.layers]


def test_summary_lists_layers_and_what_they_connect_to():
    a, b = ember.Input(shape=(4,), name="a"), ember.Input(shape=(3,), name="b")
    out = layers.Dense(2, name="head")(layers.Concatenate(name="join")([a, b]))
    text = ember.Model([a, b], out).summary(print_fn=lambda s: None)
    assert "join (Concatenate)" in text and "(None, 7)" in text
    assert "Connected to" in text and "a[0][0], b[0][0]" in text and "join[0][0]" in text
    assert "head (Dense)" in text and "16" in text


def test_subclassed_model_with_call_and_training_argument():
    class Net(ember.Model):
        def __init__(self):
            super().__init__()
            self.dense = layers.Dense(4)
            self.dropout = layers.Dropout(0.5)
            self.seen = []

        def call(self, inputs, training=None):
            self.seen.append(training)
            return self.dropout(self.dense(inputs), training=training)

    net = Net()
    net.build((None, 3))
    assert net.dense.weight.shape == (4, 3)
    x = torch.ones(2, 3)
    assert torch.equal(net(x, training=False), net.dense(x))
    net.compile(optimizer="sgd", loss="mse", device="cpu")
    net.fit(torch.randn(8, 3), torch.randn(8, 4), epochs=1, batch_size=8, verbose=0)
    assert net.seen[-1] is True  # fit calls the model in training mode


def test_custom_train_step_runs_on_the_engine():
    class Net(ember.Model):
        def __init__(self):
            super().__init__()
            self.dense = layers.Dense(1)
            self.steps = 0

        def call(self, inputs):
            return self.dense(inputs)

        def train_step(self, data):
            x, y = data
            self.steps += 1
            y_pred = self(x, training=True)
            loss = self.compute_loss(y=y, y_pred=y_pred)
            self.compute_metrics(x, y, y_pred)
            return {"loss": loss}

    torch.manual_seed(0)
    net = Net()
    net.compile(optimizer="sgd", loss="mse", metrics=["mae"], device="cpu")
    x = torch.randn(64, 2)
    y = x @ torch.tensor([[1.0], [-2.0]])
    history = net.fit(x, y, epochs=5, batch_size=16, verbose=0).history
    assert net.steps == 20 and history["loss"][-1] < history["loss"][0]
    assert "mae" in history


def test_train_step_that_returns_no_loss_is_refused():
    class Net(ember.Model):
        def __init__(self):
            super().__init__()
            self.dense = layers.Dense(1)

        def call(self, inputs):
            return self.dense(inputs)

        def train_step(self, data):
            loss = self.compute_loss(y=data[1], y_pred=self(data[0]))
            return {"loss": float(loss.detach())}

    net = Net()
    net.compile(optimizer="sgd", loss="mse", device="cpu")
    with pytest.raises(ember.ConfigError, match="engine runs backward"):
        net.fit(torch.randn(8, 2), torch.randn(8, 1), verbose=0)


def test_sequential_build_takes_keras_shapes_and_any_sequence_length():
    model = ember.Sequential([layers.Embedding(30, 4), layers.GRU(3)])
    model.build((None, None))
    assert model.layers[0].built
    model.compile(optimizer="adam", loss="mse", device="cpu")
    model.fit(np.random.randint(0, 30, (8, 7)), np.zeros((8, 3)), verbose=0)
    model.fit(np.random.randint(0, 30, (8, 12)), np.zeros((8, 3)), verbose=0)
    dense = ember.Sequential([layers.Flatten(), layers.Dense(2)])
    dense.build((None, 28, 28))
    assert dense.layers[1].weight.shape == (2, 784)


# -- bad input ---------------------------------------------------------------------------------
def test_an_input_that_reaches_no_output_is_named():
    a, b = ember.Input(shape=(2,), name="used"), ember.Input(shape=(2,), name="forgotten")
    with pytest.raises(ember.ConfigError, match="'forgotten' does not reach any output"):
        ember.Model([a, b], layers.Dense(1)(a))


def test_an_output_from_an_input_not_listed_is_refused():
    a, b = ember.Input(shape=(2,), name="a"), ember.Input(shape=(2,), name="b")
    with pytest.raises(ember.ConfigError, match="Input 'b', which is not in the model's inputs"):
        ember.Model(a, layers.Dense(1)(torch.cat([a, b], -1)))


def test_input_shape_must_hold_integers():
    with pytest.raises(
        ember.ConfigError, match=r"positive integers or None, received shape=\(2.5,\)"
    ):
        ember.Input(shape=(2.5,))
    with pytest.raises(ember.ConfigError, match="symbolic tensors"):
        ember.Model(torch.zeros(2), torch.zeros(2))


def test_a_layer_whose_call_returns_nothing_is_named():
    class Broken(layers.Layer):
        def call(self, x):
            x * 2

    with pytest.raises(ember.ConfigError, match="returned nothing"):
        Broken(name="broken")(ember.Input(shape=(3,)))


def test_mismatched_shapes_fail_while_drawing_with_both_shapes():
    a, b = ember.Input(shape=(4,)), ember.Input(shape=(5,))
    with pytest.raises(ember.ShapeError, match=r"\(None, 4\), \(None, 5\)"):
        a + b


def test_data_with_the_wrong_number_of_inputs_or_shape_is_refused():
    a, b = ember.Input(shape=(2,), name="a"), ember.Input(shape=(3,), name="b")
    model = ember.Model([a, b], layers.Dense(1)(torch.cat([a, b], -1)))
    model.compile(optimizer="sgd", loss="mse", device="cpu")
    with pytest.raises(ember.DataError, match="has 2 inputs"):
        model.predict(np.zeros((4, 2), "float32"))
    with pytest.raises(ember.ShapeError, match=r"input 'b' .* expects per-sample shape \(3,\)"):
        model.fit([np.zeros((4, 2)), np.zeros((4, 4))], np.zeros((4, 1)), verbose=0)


def test_subclass_without_call_or_forward_says_what_to_define():
    class Empty(ember.Model):
        pass

    with pytest.raises(ember.ConfigError, match="defines neither call"):
        Empty()(torch.zeros(1, 2))


def test_predict_before_compile_returns_each_output():
    a = ember.Input(shape=(3,), name="a")
    model = ember.Model(a, {"double": a * 2, "half": a / 2})
    data = np.ones((4, 3), "float32")
    predicted = model.predict(data)
    np.testing.assert_array_equal(predicted["double"], 2 * data)
    np.testing.assert_array_equal(predicted["half"], data / 2)
    both = ember.Model([a, b := ember.Input(shape=(3,))], a - b)
    np.testing.assert_array_equal(both([data, data]).numpy(), np.zeros((4, 3)))  # numpy inputs


def test_a_model_subclass_called_with_inputs_and_outputs_is_functional_with_its_own_steps():
    class CustomModel(ember.Model):  # Keras' "functional subclass" (the train_step guide's)
        def train_step(self, data):
            x, y = data
            self.calls = getattr(self, "calls", 0) + 1
            return {"loss": self.compute_loss(y=y, y_pred=self(x, training=True))}

    inputs = ember.Input(shape=(4,))
    model = CustomModel(inputs, layers.Dense(1)(inputs))
    assert isinstance(model, CustomModel) and isinstance(model, ember.Functional)
    model.compile(optimizer="sgd", loss="mse", device="cpu")
    model.fit(np.random.rand(32, 4), np.random.rand(32, 1), batch_size=8, verbose=0)
    assert model.calls == 4


def test_model_weights_and_a_sequential_from_another_models_layers():
    inputs = ember.Input(shape=(3,))
    model = ember.Model(inputs, layers.Dense(2)(layers.Dense(4)(inputs)))
    model.layers[0].trainable = False
    assert [tuple(w.shape) for w in model.trainable_weights] == [(2, 4), (2,)]
    assert len(model.weights) == 4 and len(model.non_trainable_weights) == 2
    stacked = ember.Sequential(model.layers)  # Keras: keras.Sequential(model.layers)
    x = torch.randn(5, 3)
    torch.testing.assert_close(stacked(x), model(x))
