"""Import torchvision (and timm, which imports it) so that its pure-Python parts always work.

torchvision's models and transforms are plain Python, but ``import torchvision`` also loads its
compiled operators (``_C``: NMS, RoI align). A wheel built for another torch build (PyPI's
torchvision wheels are CUDA builds; beside a CPU-only torch their ``_C`` cannot load) then fails
on import with ``RuntimeError: operator torchvision::nms does not exist``: torchvision guards
every fake-kernel registration on the extension having loaded, except those of ``nms`` and
``qnms``. When, and only when, ``_C`` cannot load, :func:`prepare_torchvision_import` declares
those two operators' schemas first, so the import succeeds; ember uses none of the compiled
operators (calling ``torchvision.ops.nms`` would still fail, with torch's "no kernel" error).

Libraries ember uses import torchvision on their own when it is installed (torchmetrics does),
so ``import ember`` installs :class:`PrepareTorchvision`, an import hook that runs the
preparation just before the first ``import torchvision``, whoever asks for it.

Example:
    >>> tv = import_torchvision()
    >>> tv.models.resnet18().fc.in_features
    512
"""

from __future__ import annotations

import functools
import importlib
import importlib.abc
import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

from ember.errors import ConfigError

# The two operators torchvision's _meta_registrations registers fake kernels for unguarded,
# with the schemas of torchvision/csrc/ops/nms.cpp and quantized/cpu/qnms_kernel.cpp.
_UNGUARDED_SCHEMAS = (
    "nms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor",
    "qnms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor",
)
_libraries: list[Any] = []  # kept alive: a torch.library.Library's definitions die with it


def import_torchvision() -> ModuleType:
    """The ``torchvision`` module, importable even where its compiled operators are not."""
    if not prepare_torchvision_import():
        raise ConfigError(
            "ember's vision models need torchvision, which is not installed. Fix: pip install "
            "torchvision with the version that pairs with your torch (torch 2.13 -> 0.28)."
        )
    return importlib.import_module("torchvision")


def import_timm() -> ModuleType:
    """The ``timm`` module (after :func:`import_torchvision`, which it imports)."""
    import_torchvision()
    if importlib.util.find_spec("timm") is None:
        raise ConfigError(
            "timm models need the timm package, which is not installed. Fix: pip install timm."
        )
    return importlib.import_module("timm")


@functools.cache
def prepare_torchvision_import() -> bool:
    """Make a later ``import torchvision`` succeed (see the module doc); False if not installed."""
    # The hook's work is done here: without it, find_spec below would call back into this.
    sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, PrepareTorchvision)]
    spec = importlib.util.find_spec("torchvision")
    if spec is None or not spec.submodule_search_locations:
        return False
    # torch here, not at the top: `import ember` (and `ember --help`) must not load torch.
    import torch

    if not _extension_loads(torch, Path(next(iter(spec.submodule_search_locations)))):
        library = torch.library.Library("torchvision", "DEF")
        for schema in _UNGUARDED_SCHEMAS:
            library.define(schema)
        _libraries.append(library)
    return True


class PrepareTorchvision(importlib.abc.MetaPathFinder):
    """An import hook: before the first ``import torchvision``, :func:`prepare_torchvision_import`.

    It finds nothing itself (the normal finders import torchvision) and removes itself once used.
    """

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> None:
        if fullname == "torchvision":
            prepare_torchvision_import()
        return None


def install_import_hook() -> None:
    """Put :class:`PrepareTorchvision` first on ``sys.meta_path`` (once; not if already imported)."""
    if "torchvision" in sys.modules:
        return
    if not any(isinstance(finder, PrepareTorchvision) for finder in sys.meta_path):
        sys.meta_path.insert(0, PrepareTorchvision())


def _extension_loads(torch: ModuleType, folder: Path) -> bool:
    libraries = sorted(folder.glob("_C*.so")) + sorted(folder.glob("_C*.pyd"))
    if not libraries:
        return False
    try:
        torch.ops.load_library(str(libraries[0]))
    except (OSError, RuntimeError):
        return False
    return True
