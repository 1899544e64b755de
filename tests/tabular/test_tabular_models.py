"""TabularMLP and FTTransformer: forward against hand computations, training through
ember.Model.fit on a learnable rule, export, and bad arguments."""

import math

import numpy as np
import pandas as pd
import pytest
import torch
import torch.nn.functional as F

import ember
from ember.errors import ConfigError, ShapeError
from ember.tabular import FeatureTokenizer, FTTransformer, TablePreprocessor, TabularMLP

NETWORKS = [
    lambda c, d, o: TabularMLP(c, d, o, hidden=(16, 8)),
    lambda c, d, o: FTTransformer(c, d, o, d_token=8, layers=2, heads=2),
]


def features(n=5, cardinalities=(4, 3), n_numeric=2, seed=0):
    generator = torch.Generator().manual_seed(seed)
    codes = [torch.randint(0, k, (n, 1), generator=generator).float() for k in cardinalities]
    return torch.cat([*codes, torch.randn(n, n_numeric, generator=generator)], dim=1)


@pytest.mark.parametrize("build", NETWORKS, ids=["mlp", "ft_transformer"])
@pytest.mark.parametrize(
    "sizes", [((4, 3), 2), ((), 3), ((5,), 0)], ids=["both", "numeric", "codes"]
)
def test_forward_backward_shapes_and_finite(build, sizes):
    cardinalities, n_numeric = sizes
    network = build(list(cardinalities), n_numeric, 3)
    x = features(6, cardinalities, n_numeric)
    out = network(x)
    assert out.shape == (6, 3)
    out.sum().backward()
    grads = [p.grad for p in network.parameters() if p.grad is not None]
    assert grads and all(torch.isfinite(g).all() for g in grads)


def test_mlp_forward_equals_a_hand_computation():
    network = TabularMLP([4, 3], 2, 2, hidden=[5], embedding_sizes=[2, 3]).eval()
    with torch.no_grad():
        for parameter in network.parameters():
            parameter.uniform_(-1, 1)
        norm, block_norm = network.numeric_norm, network.blocks[2]
        norm.running_mean.uniform_(-1, 1), norm.running_var.uniform_(0.5, 2)
        block_norm.running_mean.uniform_(-1, 1), block_norm.running_var.uniform_(0.5, 2)
    x = features(7)
    codes = x[:, :2].long()

    def batch_norm(values, layer):
        scaled = (values - layer.running_mean) / torch.sqrt(layer.running_var + layer.eps)
        return scaled * layer.weight + layer.bias

    embedded = torch.cat([network.embeddings[i].weight[codes[:, i]] for i in range(2)], dim=1)
    joined = torch.cat([embedded, batch_norm(x[:, 2:], norm)], dim=1)
    hidden = batch_norm(torch.relu(joined @ network.blocks[0].weight.T), block_norm)
    expected = hidden @ network.head.weight.T + network.head.bias
    torch.testing.assert_close(network(x), expected)


def test_feature_tokenizer_equals_a_hand_computation():
    tokenizer = FeatureTokenizer([4, 3], n_numeric=2, d_token=5)
    codes, numeric = torch.tensor([[3, 0], [1, 2]]), torch.tensor([[0.5, -2.0], [1.5, 0.0]])
    tokens = tokenizer(codes, numeric)
    table = tokenizer.category_embeddings.weight
    for row in range(2):
        torch.testing.assert_close(tokens[row, 0], tokenizer.cls_token)
        for column, offset in enumerate((0, 4)):  # the second column's codes follow the first's 4
            expected = table[offset + codes[row, column]] + tokenizer.category_bias[column]
            torch.testing.assert_close(tokens[row, 1 + column], expected)
        for j in range(2):
            expected = numeric[row, j] * tokenizer.numeric_weight[j] + tokenizer.numeric_bias[j]
            torch.testing.assert_close(tokens[row, 3 + j], expected)


def test_ft_transformer_blocks_equal_a_hand_computation():
    network = FTTransformer([4], 1, 2, d_token=4, layers=1, heads=1, dropout=0.0).eval()
    x = features(3, (4,), 1)
    tokens = network.tokenizer(x[:, :1].long(), x[:, 1:])  # (N, 3, 4)
    block = network.blocks[0]
    w_q, w_k, w_v = block.attention.in_proj_weight.chunk(3)
    b_q, b_k, b_v = block.attention.in_proj_bias.chunk(3)
    query, keys, values = tokens[:, :1] @ w_q.T + b_q, tokens @ w_k.T + b_k, tokens @ w_v.T + b_v
    weights = torch.softmax(query @ keys.transpose(1, 2) / math.sqrt(4), dim=-1)
    attended = (
        weights @ values
    ) @ block.attention.out_proj.weight.T + block.attention.out_proj.bias
    cls = tokens[:, 0] + attended[:, 0]  # the first block has no attention LayerNorm
    hidden = block.ffn[0](F.layer_norm(cls, (4,), block.ffn_norm.weight, block.ffn_norm.bias))
    a, b = hidden.chunk(2, dim=-1)
    cls = cls + block.ffn[3](a * torch.relu(b))  # ReGLU
    head = network.head
    expected = head[2](torch.relu(F.layer_norm(cls, (4,), head[0].weight, head[0].bias)))
    torch.testing.assert_close(network(x), expected)


def rule_frame(n, seed):
    """The label is the sign of x, flipped for category "b": learnable only through both."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({"x": rng.normal(size=n), "group": rng.choice(["a", "b", "c"], n)})
    flip = np.where(frame["group"] == "b", -1, 1)
    frame["label"] = np.where(frame["x"] * flip > 0, "up", "down")
    return frame


@pytest.mark.parametrize(
    "network_class, options",
    [(TabularMLP, {"hidden": [32, 16]}), (FTTransformer, {"d_token": 16, "layers": 1, "heads": 2})],
    ids=["mlp", "ft_transformer"],
)
def test_model_fit_learns_a_category_dependent_sign(network_class, options):
    ember.set_seed(0)
    train, test = rule_frame(256, seed=1), rule_frame(256, seed=2)
    pre = TablePreprocessor("label").fit(train)
    model = ember.Model(network_class.from_preprocessor(pre, **options))
    model.compile(
        optimizer=ember.optimizers.Adam(learning_rate=1e-2),
        loss="sparse_categorical_crossentropy",
        from_logits=True,
        device="cpu",
    )
    model.fit(pre.transform(train), pre.targets(train), epochs=10, batch_size=32, verbose=0)
    logits = model.predict(pre.transform(test))
    accuracy = (logits.argmax(1) == pre.targets(test)).float().mean().item()
    assert accuracy > 0.9


def test_onnx_export_matches_pytorch_with_a_dynamic_batch(tmp_path):
    onnxruntime = pytest.importorskip("onnxruntime")
    network = FTTransformer([4, 3], 2, 2, d_token=8, layers=2, heads=2).eval()
    path = ember.deploy.export_onnx(network, features(4), tmp_path / "ft.onnx")
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    x = features(9, seed=3)
    (outputs,) = session.run(None, {"inputs": x.numpy()})
    np.testing.assert_allclose(outputs, network(x).detach().numpy(), rtol=1e-4, atol=1e-5)


def test_bad_arguments_are_config_errors():
    with pytest.raises(ConfigError, match="heads must divide d_token"):
        FTTransformer([4], 1, 2, d_token=10, heads=4)
    with pytest.raises(ConfigError, match="one embedding size per categorical column"):
        TabularMLP([4, 3], 1, 2, embedding_sizes=[2])
    with pytest.raises(ConfigError, match="at least one input column"):
        TabularMLP([], 0, 2)
    with pytest.raises(ConfigError, match="received out_features=0"):
        FTTransformer([4], 1, 0)
    with pytest.raises(ConfigError, match="received dropout=1.5"):
        TabularMLP([4], 1, 2, dropout=1.5)
    with pytest.raises(ConfigError, match="received cardinalities"):
        TabularMLP([0], 1, 2)


@pytest.mark.parametrize("build", NETWORKS, ids=["mlp", "ft_transformer"])
def test_wrong_feature_width_is_a_shape_error(build):
    network = build([4, 3], 2, 2)
    with pytest.raises(ShapeError, match=r"shape \(N, 4\).*received \(5, 3\)"):
        network(torch.zeros(5, 3))


@pytest.mark.parametrize("network_class", [TabularMLP, FTTransformer])
def test_from_preprocessor_sizes_the_network(network_class):
    pre = TablePreprocessor("label").fit(rule_frame(32, seed=0))
    network = network_class.from_preprocessor(pre)
    assert network.config["cardinalities"] == [3 + 2] and network.config["n_numeric"] == 1
    assert network.config["out_features"] == 2
    assert network_class.from_preprocessor(pre, 5).config["out_features"] == 5
