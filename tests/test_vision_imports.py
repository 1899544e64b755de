"""torchvision (and what imports it: torchmetrics, timm) imports beside a CPU-only torch."""

from __future__ import annotations

import subprocess
import sys

import pytest


def run(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize(
    "code",
    [
        # The hook `import ember` installs runs before torchmetrics' own import of torchvision.
        "import ember, torchmetrics, torchvision; print(torchvision.models.resnet18().fc.out_features)",
        # Called directly while the hook is still installed: prepares once, not twice.
        "import ember\nfrom ember.vision_imports import import_torchvision\n"
        "print(import_torchvision().models.resnet18().fc.out_features)",
        # timm through ember.
        "import ember\nfrom ember.vision_imports import import_timm\n"
        "print(import_timm().create_model('resnet18', num_classes=1000).fc.out_features)",
    ],
)
def test_torchvision_imports_after_ember(code: str) -> None:
    result = run(code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("1000")


def test_import_ember_does_not_load_torch() -> None:
    result = run("import sys, ember; print('torch' in sys.modules, 'torchvision' in sys.modules)")
    assert result.stdout.split() == ["False", "False"]
