"""ember.ops against Keras 3's keras.ops (torch backend): the same values and dtypes."""

from __future__ import annotations

import os

import numpy as np
import pytest
import torch

from ember import ops
from ember.errors import ConfigError, DataError, ShapeError

os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras")

rng = np.random.default_rng(0)
A = rng.normal(size=(2, 3)).astype("float32")  # (2, 3)
B = rng.normal(size=(3, 4)).astype("float32")  # (3, 4)
C = rng.normal(size=(2, 3, 4)).astype("float32")
P = rng.uniform(0.1, 2.0, size=(2, 3)).astype("float32")  # positive
U = rng.uniform(-0.9, 0.9, size=(2, 3)).astype("float32")  # inside (-1, 1)
N = np.array([[3, 1, 2], [0, 5, 4]], dtype="int32")  # integers
L = np.array([[2, 1, 0]], dtype="int64")  # numpy's default integers
M = np.array([[True, False, True], [False, False, True]])
PROBS = np.array([[0.2, 0.3, 0.5], [0.6, 0.3, 0.1]], dtype="float32")

CASES = [
    # element-wise, with numpy arrays, Python numbers and lists
    ("add", (A, 1.5), {}),
    ("add", (N, 1.5), {}),
    ("add", (N, 2), {}),
    ("add", (2, 3), {}),
    ("subtract", (A, B[:2, :3]), {}),
    ("multiply", (N, A), {}),
    ("divide", (N, 2), {}),
    ("divide", (A, P), {}),
    ("true_divide", (A, 3.0), {}),
    ("floor_divide", (N, 2), {}),
    ("mod", (N, 3), {}),
    ("power", (P, 2.5), {}),
    ("power", (N, 2), {}),
    ("maximum", (A, 0.0), {}),
    ("minimum", (N, 2), {}),
    ("negative", (A,), {}),
    ("abs", (A,), {}),
    ("absolute", (N,), {}),
    ("sqrt", (P,), {}),
    ("sqrt", (N,), {}),
    ("square", (A,), {}),
    ("exp", (A,), {}),
    ("expm1", (A,), {}),
    ("log", (P,), {}),
    ("log1p", (P,), {}),
    ("log2", (P,), {}),
    ("log10", (P,), {}),
    ("sign", (A,), {}),
    ("floor", (A,), {}),
    ("ceil", (A,), {}),
    ("round", (A * 10,), {}),
    ("round", (A, 1), {}),
    ("clip", (A, -0.5, 0.5), {}),
    ("clip", (N, 1, 3), {}),
    ("sin", (A,), {}),
    ("cos", (A,), {}),
    ("tan", (U,), {}),
    ("arcsin", (U,), {}),
    ("arccos", (U,), {}),
    ("arctan", (A,), {}),
    ("arctan2", (A, P), {}),
    ("sinh", (A,), {}),
    ("cosh", (A,), {}),
    ("tanh", (A,), {}),
    ("erf", (A,), {}),
    ("erfinv", (U,), {}),
    ("reciprocal", (P,), {}),
    ("rsqrt", (P,), {}),
    ("isnan", (np.array([np.nan, 1.0]),), {}),
    ("isinf", (np.array([np.inf, 1.0]),), {}),
    ("isfinite", (np.array([np.inf, np.nan, 1.0]),), {}),
    ("nan_to_num", (np.array([np.nan, np.inf, -np.inf, 1.0], dtype="float32"),), {}),
    ("equal", (N, 1), {}),
    ("not_equal", (N, L.astype("int32")), {}),
    ("greater", (A, 0.0), {}),
    ("greater_equal", (N, 2), {}),
    ("less", (A, P), {}),
    ("less_equal", (N, 3), {}),
    ("logical_and", (M, A > 0), {}),
    ("logical_or", (M, A > 0), {}),
    ("logical_xor", (M, A > 0), {}),
    ("logical_not", (M,), {}),
    ("where", (M, A, 0.0), {}),
    ("where", (M,), {}),
    # reductions
    ("sum", (A,), {}),
    ("sum", (N,), {"axis": 0}),
    ("sum", (C,), {"axis": (0, 2), "keepdims": True}),
    ("mean", (C,), {"axis": -1}),
    ("mean", (N,), {}),
    ("max", (A,), {"axis": 1}),
    ("max", (N,), {"initial": 4}),
    ("min", (C,), {"axis": (1, 2), "keepdims": True}),
    ("prod", (P,), {"axis": 1}),
    ("prod", (N,), {}),
    ("argmax", (A,), {"axis": 1}),
    ("argmax", (A,), {}),
    ("argmin", (C,), {"axis": 0, "keepdims": True}),
    ("std", (C,), {"axis": 1}),
    ("var", (A,), {}),
    ("any", (M,), {"axis": 1}),
    ("all", (M,), {"axis": 0, "keepdims": True}),
    ("logsumexp", (C,), {"axis": -1}),
    ("logsumexp", (A,), {}),
    ("norm", (A,), {}),
    ("norm", (C,), {"axis": -1, "keepdims": True}),
    ("norm", (A,), {"ord": 1, "axis": 1}),
    ("norm", (A,), {"ord": "fro"}),
    ("cumsum", (N,), {"axis": 1}),
    ("cumsum", (A,), {}),
    ("cumprod", (P,), {"axis": 0}),
    ("count_nonzero", (N,), {"axis": 1}),
    # shapes
    ("reshape", (C, (4, -1)), {}),
    ("transpose", (C,), {}),
    ("transpose", (C, (1, 0, 2)), {}),
    ("expand_dims", (A, 1), {}),
    ("expand_dims", (A, (0, -1)), {}),
    ("squeeze", (A[:1],), {}),
    ("squeeze", (C[:, :1],), {"axis": 1}),
    ("concatenate", ([A, P],), {"axis": 1}),
    ("stack", ([A, P],), {"axis": -1}),
    ("vstack", ([A, P],), {}),
    ("hstack", ([A, P],), {}),
    ("split", (C, 2), {"axis": -1}),
    ("split", (np.arange(7), [2, 5]), {}),
    ("tile", (N, (2, 1)), {}),
    ("repeat", (N, 2), {}),
    ("repeat", (N, 2), {"axis": 0}),
    ("repeat", (A, np.array([1, 2, 3])), {"axis": 1}),
    ("flip", (C,), {"axis": 1}),
    ("flip", (A,), {}),
    ("roll", (C, 1), {"axis": 2}),
    ("roll", (A, 2), {}),
    ("pad", (A, ((1, 0), (0, 2))), {}),
    ("pad", (N, ((1, 1), (1, 1))), {"constant_values": 7}),
    ("pad", (np.arange(4), (3, 2)), {"mode": "reflect"}),
    ("broadcast_to", (A[:1], (3, 3)), {}),
    ("swapaxes", (C, 0, 2), {}),
    ("moveaxis", (C, 0, -1), {}),
    ("ravel", (A,), {}),
    ("tril", (C,), {}),
    ("triu", (A,), {"k": 1}),
    # indexing
    ("take", (A, [2, 0, -1]), {"axis": 1}),
    ("take", (A, [[1, 4]]), {}),
    ("take_along_axis", (A, np.array([[2], [0]])), {"axis": 1}),
    ("take_along_axis", (C, np.argsort(C, axis=0)), {"axis": 0}),
    ("slice", (C, (1, 0, 2), (1, 2, 2)), {}),
    ("slice_update", (A, (0, 1), np.ones((2, 2), "float32")), {}),
    ("scatter", (np.array([[0, 1], [1, 2], [0, 1]]), np.array([1.0, 2.0, 3.0]), (2, 3)), {}),
    ("scatter_update", (A, np.array([[0, 0], [1, 2]]), np.array([9.0, 8.0], "float32")), {}),
    ("sort", (A,), {}),
    ("sort", (C,), {"axis": 0}),
    ("argsort", (A,), {}),
    ("argsort", (C,), {"axis": 1}),
    ("top_k", (A, 2), {}),
    ("diag", (np.arange(3),), {"k": 1}),
    ("diag", (B,), {}),
    ("diagonal", (C,), {"offset": 1, "axis1": 1, "axis2": 2}),
    ("trace", (B,), {}),
    # creation
    ("arange", (5,), {}),
    ("arange", (1, 2, 0.25), {}),
    ("arange", (2, 11, 3), {"dtype": "float32"}),
    ("linspace", (0, 1, 5), {}),
    ("linspace", (0.0, 2.0, 4), {"endpoint": False}),
    ("ones", ((2, 3),), {}),
    ("zeros", (3,), {"dtype": "int32"}),
    ("ones_like", (N,), {}),
    ("zeros_like", (A,), {"dtype": "float64"}),
    ("full", ((2, 2), 7.0), {}),
    ("full_like", (A, 2), {}),
    ("eye", (3,), {}),
    ("eye", (2, 4), {"k": 1}),
    ("identity", (3,), {}),
    ("tri", (3, 4), {"k": -1}),
    ("cast", (A, "int32"), {}),
    ("cast", (N, "float16"), {}),
    ("convert_to_tensor", ([1, 2],), {}),
    ("convert_to_tensor", ([1.0, 2.0],), {}),
    ("convert_to_tensor", (np.zeros(2),), {}),
    ("convert_to_tensor", (True,), {}),
    # products
    ("matmul", (A, B), {}),
    ("matmul", (C, B.T[:4, :4]), {}),
    ("matmul", (N, B), {}),
    ("dot", (A, B), {}),
    ("dot", (A[0], A[1]), {}),
    ("dot", (C, B[0]), {}),
    ("dot", (A, 2.0), {}),
    ("einsum", ("ij,jk->ik", A, B), {}),
    ("einsum", ("bij->bj", C), {}),
    ("tensordot", (C, B.T), {"axes": 1}),
    ("tensordot", (A, B), {"axes": ([1], [0])}),
    ("outer", (A[0], B[0]), {}),
    # nn
    ("relu", (A,), {}),
    ("relu6", (A * 10,), {}),
    ("sigmoid", (A,), {}),
    ("log_sigmoid", (A,), {}),
    ("hard_sigmoid", (A * 4,), {}),
    ("silu", (A,), {}),
    ("swish", (A,), {}),
    ("hard_silu", (A * 4,), {}),
    ("gelu", (A,), {}),
    ("gelu", (A,), {"approximate": False}),
    ("elu", (A,), {"alpha": 0.5}),
    ("selu", (A,), {}),
    ("leaky_relu", (A,), {}),
    ("softplus", (A,), {}),
    ("softsign", (A,), {}),
    ("softmax", (C,), {}),
    ("softmax", (A,), {"axis": 0}),
    ("log_softmax", (C,), {"axis": 1}),
    ("one_hot", (np.array([0, 2, 1]), 3), {}),
    ("one_hot", (np.array([[0, -1], [2, 1]]), 3), {"axis": 1}),
    ("moments", (C, (0, 2)), {}),
    ("moments", (A, 1), {"keepdims": True}),
    ("binary_crossentropy", (M.astype("float32"), PROBS), {}),
    ("binary_crossentropy", (M.astype("float32"), A), {"from_logits": True}),
    ("categorical_crossentropy", (np.eye(3, dtype="float32")[[2, 0]], PROBS), {}),
    ("categorical_crossentropy", (np.eye(3, dtype="float32")[[1, 0]], A), {"from_logits": True}),
    ("sparse_categorical_crossentropy", (np.array([2, 0]), PROBS), {}),
    ("sparse_categorical_crossentropy", (np.array([[1], [0]]), A), {"from_logits": True}),
]


def _as_list(result):
    if isinstance(result, (tuple, list)):
        return list(result)
    return [result]


@pytest.mark.filterwarnings("ignore:The use of `x.T`:UserWarning")  # inside Keras' count_nonzero
@pytest.mark.parametrize(
    ("name", "args", "kwargs"), CASES, ids=[f"{n}-{i}" for i, (n, _, _) in enumerate(CASES)]
)
def test_op_matches_keras(name, args, kwargs):
    expected = _as_list(getattr(keras.ops, name)(*args, **kwargs))
    received = _as_list(getattr(ops, name)(*args, **kwargs))
    assert len(received) == len(expected)
    for ours, theirs in zip(received, expected):
        assert isinstance(ours, torch.Tensor)
        theirs = torch.as_tensor(theirs)  # Keras' torch backend returns torch tensors
        assert ours.dtype == theirs.dtype
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-5, atol=1e-6)


# Where Keras' torch backend departs from numpy (a scalar pad width, "symmetric" padding done as
# "edge", no "edge" at all, linspace without axis), ember follows numpy.
@pytest.mark.parametrize(
    ("pad_width", "mode"),
    [(1, "constant"), ((1, 2), "constant"), (((1, 2), (2, 1)), "symmetric"),
     (((2, 0), (3, 2)), "reflect"), ((1, 3), "edge"), (((0, 0), (4, 5)), "symmetric")],
)  # fmt: skip
def test_pad_matches_numpy(pad_width, mode):
    np.testing.assert_array_equal(ops.pad(A, pad_width, mode=mode), np.pad(A, pad_width, mode))


def test_linspace_along_an_axis_matches_numpy():
    expected = np.linspace([0.0, 1.0], [1.0, 3.0], 3, axis=1)
    np.testing.assert_allclose(ops.linspace([0.0, 1.0], [1.0, 3.0], 3, axis=1), expected)
    values, step = ops.linspace(0.0, 1.0, 5, retstep=True)
    assert float(step) == 0.25 and values.tolist() == [0.0, 0.25, 0.5, 0.75, 1.0]


def test_one_hot_of_an_index_past_the_classes_is_zeros():
    assert ops.one_hot(np.array([3, 1]), 3).tolist() == [[0, 0, 0], [0, 1, 0]]


def test_ops_keep_tensors_on_their_device_and_in_the_graph():
    weight = torch.ones(2, requires_grad=True)
    ops.sum(ops.multiply(weight, np.array([2.0, 3.0], "float32"))).backward()
    assert weight.grad.tolist() == [2.0, 3.0]


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: ops.cast(A, "float31"), ConfigError, "received dtype='float31'"),
        (lambda: ops.convert_to_tensor(np.array(["a"])), DataError, "dtype <U1"),
        (lambda: ops.squeeze(A, axis=0), ConfigError, "shape \\(2, 3\\)"),
        (lambda: ops.split(A, 2, axis=1), ConfigError, "size 3 into indices_or_sections=2"),
        (lambda: ops.pad(A, 1, mode="wrap"), ConfigError, "received mode='wrap'"),
        (lambda: ops.pad(A, 1, mode="edge", constant_values=1), ConfigError, "constant_values"),
        (lambda: ops.top_k(A, 4), ShapeError, "received k=4"),
        (lambda: ops.binary_crossentropy(A, A[:1]), ShapeError, "\\(2, 3\\) and output \\(1, 3\\)"),
        (lambda: ops.sparse_categorical_crossentropy([1, 2, 0], A), ShapeError, "received \\(3,\\)"),
    ],
)  # fmt: skip
def test_bad_op_arguments_raise_ember_errors(call, error, message):
    with pytest.raises(error, match=message):
        call()
