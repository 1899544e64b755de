"""Every code block of docs/keras.md runs as written, and shows what the page says it shows."""

import contextlib
import io
import re
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).parents[1]
BLOCKS = re.findall(r"```python\n(.+?)\n```", (ROOT / "docs" / "keras.md").read_text(), re.S)


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_each_block_runs(index):
    namespace: dict = {}
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(BLOCKS[index], f"docs/keras.md block {index}", "exec"), namespace)  # noqa: S102
    model = namespace.get("model")
    if index == 0:
        assert "mnist_model" in printed.getvalue() and model.count_params() == 55050
        assert len(namespace["history"].history["val_loss"]) == 2
    if index == 1:
        keys = "['department_accuracy', 'department_loss', 'loss', 'priority_loss']"
        assert printed.getvalue().strip() == keys
        assert namespace["predictions"]["department"].shape == (64, 4)
    if index == 2:
        assert not any(p.requires_grad for p in namespace["base"].parameters())
        assert model(torch.zeros(2, 32, 32, 3)).shape == (2, 2)
    if index == 3:
        assert model.hidden.w.shape == (784, 32)
    if index == 4:
        assert sorted(namespace["history"].history) == ["loss", "mae"]


def test_the_page_has_the_blocks_this_test_checks():
    assert len(BLOCKS) == 5
