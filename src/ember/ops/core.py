"""Tensors in, tensors out: conversion, dtypes and shapes for ``ember.ops`` (Keras' ``core`` ops).

Every op accepts torch tensors, numpy arrays, Python numbers and (nested) lists, and returns
torch tensors. Python values take Keras' default dtypes (``int32``, ``float32``, ``bool``);
numpy arrays keep theirs. Operands move to the device of the first tensor among them.

Example:
    >>> import numpy as np
    >>> convert_to_tensor([1, 2]).dtype, convert_to_tensor(np.zeros(2)).dtype
    (torch.int32, torch.float64)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from ember.errors import ConfigError, DataError

DTYPES = {
    "bool": torch.bool,
    "uint8": torch.uint8,
    "uint16": torch.uint16,
    "uint32": torch.uint32,
    "int8": torch.int8,
    "int16": torch.int16,
    "int32": torch.int32,
    "int64": torch.int64,
    "float16": torch.float16,
    "bfloat16": torch.bfloat16,
    "float32": torch.float32,
    "float64": torch.float64,
    "complex64": torch.complex64,
    "complex128": torch.complex128,
}
_NAMES = {torch_dtype: name for name, torch_dtype in DTYPES.items()}
# Python values become what Keras makes of them (its floatx and int32), not torch's int64.
_PYTHON_DTYPES = {np.dtype("float64"): torch.float32, np.dtype("int64"): torch.int32}


def to_torch_dtype(dtype: Any) -> torch.dtype | None:
    """A Keras dtype name (``"float32"``), a numpy dtype or a torch dtype as a torch dtype.

    Example:
        >>> to_torch_dtype("int32"), to_torch_dtype(np.float64), to_torch_dtype(None)
        (torch.int32, torch.float64, None)
    """
    if dtype is None or isinstance(dtype, torch.dtype):
        return dtype
    try:
        name = dtype if isinstance(dtype, str) else np.dtype(dtype).name
    except TypeError:
        name = None
    if name not in DTYPES:
        raise ConfigError(
            f"expected a dtype such as 'float32' (one of {sorted(DTYPES)}), received "
            f"dtype={dtype!r}"
        )
    return DTYPES[name]


def convert_to_tensor(x: Any, dtype: Any = None, sparse: Any = None, ragged: Any = None) -> Any:
    """``x`` as a torch tensor (the same one if it already is), cast to ``dtype`` if given.

    ``sparse`` and ``ragged`` are accepted for Keras code and ignored (tensors are dense).

    Example:
        >>> convert_to_tensor(1.5), convert_to_tensor([[True]], dtype="float32")
        (tensor(1.5000), tensor([[1.]]))
    """
    torch_dtype = to_torch_dtype(dtype)
    if isinstance(x, torch.Tensor):
        tensor = x
    elif isinstance(x, (np.ndarray, np.generic)):
        tensor = _from_numpy(np.asarray(x))
    elif isinstance(x, (list, tuple)) and any(isinstance(item, torch.Tensor) for item in x):
        tensor = torch.stack([convert_to_tensor(item) for item in x])
    else:
        array = np.asarray(x)
        tensor = _from_numpy(array)
        if array.dtype in _PYTHON_DTYPES:
            tensor = tensor.to(_PYTHON_DTYPES[array.dtype])
    return tensor if torch_dtype is None else tensor.to(torch_dtype)


def _from_numpy(array: np.ndarray) -> torch.Tensor:
    if array.dtype.kind not in "biufc":
        raise DataError(
            f"ember.ops works on numbers, received an array of dtype {array.dtype}. "
            f"Fix: encode strings or objects as numbers first."
        )
    if not array.flags.writeable:  # torch refuses to share memory it may not write
        array = array.copy()
    return torch.from_numpy(array)


def as_tensors(*values: Any) -> list[torch.Tensor]:
    """Each value as a tensor, all on the device of the first tensor among them.

    Python numbers become 0-d tensors, which torch's type promotion treats as weakly typed,
    as Keras does: ``int8 array + 1`` stays int8, ``int32 array + 1.5`` becomes float32.
    """
    device = next((v.device for v in values if isinstance(v, torch.Tensor)), None)
    tensors = [convert_to_tensor(value) for value in values]
    if device is not None:
        tensors = [t if t.device == device else t.to(device) for t in tensors]
    return tensors


def promoted(*values: Any) -> list[torch.Tensor]:
    """:func:`as_tensors`, cast to one dtype (for torch ops that do not promote, e.g. matmul)."""
    tensors = as_tensors(*values)
    common = tensors[0].dtype
    for tensor in tensors[1:]:
        common = torch.promote_types(common, tensor.dtype)
    return [t.to(common) for t in tensors]


def floating(x: Any) -> torch.Tensor:
    """``x`` as a tensor, integers and booleans as float32 (Keras' result dtype for a mean)."""
    tensor = convert_to_tensor(x)
    return tensor if tensor.is_floating_point() or tensor.is_complex() else tensor.float()


def convert_to_numpy(x: Any) -> np.ndarray:
    """``x`` as a numpy array (a tensor is detached and copied to the CPU).

    Example:
        >>> convert_to_numpy(torch.ones(2, requires_grad=True))
        array([1., 1.], dtype=float32)
    """
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu()
        return (x.float() if x.dtype == torch.bfloat16 else x).numpy()
    return np.asarray(x)


def cast(x: Any, dtype: Any) -> torch.Tensor:
    """``x`` as a tensor of ``dtype``.

    Example:
        >>> cast([1.7, -1.7], "int32")
        tensor([ 1, -1], dtype=torch.int32)
    """
    return convert_to_tensor(x, dtype=dtype)


def shape(x: Any) -> tuple[int, ...]:
    """The shape of ``x`` as a tuple of ints. Example: ``shape(np.zeros((2, 3)))`` is (2, 3)."""
    if isinstance(x, torch.Tensor):
        return tuple(x.shape)
    return tuple(np.shape(x))


def ndim(x: Any) -> int:
    """The number of axes of ``x``. Example: ``ndim([[1, 2]])`` is 2."""
    return len(shape(x))


def dtype(x: Any) -> str:
    """The Keras name of ``x``'s dtype. Example: ``dtype([1.0])`` is ``'float32'``."""
    return _NAMES[convert_to_tensor(x).dtype]


def is_tensor(x: Any) -> bool:
    """True for a torch tensor (what ember.ops returns)."""
    return isinstance(x, torch.Tensor)


def stop_gradient(variable: Any) -> torch.Tensor:
    """``variable`` cut from the autograd graph (its gradient is zero)."""
    return convert_to_tensor(variable).detach()


def cond(pred: Any, true_fn: Callable[[], Any], false_fn: Callable[[], Any]) -> Any:
    """``true_fn()`` if ``pred`` else ``false_fn()`` (eager: only the chosen branch runs).

    Example:
        >>> cond(torch.tensor(2) > 1, lambda: "yes", lambda: "no")
        'yes'
    """
    return true_fn() if bool(pred) else false_fn()
