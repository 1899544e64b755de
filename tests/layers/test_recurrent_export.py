"""Recurrent layers with masks export with torch.export and ONNX (dynamic batch and sequence
axes), and the exported graphs compute what eager PyTorch (packed sequences) computes."""

from __future__ import annotations

import onnx
import onnxruntime
import pytest
import torch
from torch import nn

from ember.deploy import export_onnx, export_pt2
from ember.layers import GRU, LSTM, Bidirectional, Embedding, SimpleRNN
from ember.layers.recurrent_loop import run_steps, scan_steps
from ember.layers.recurrent_masks import run_packed, run_padded

TOLERANCE = 1e-5
VOCABULARY = 40
KERNELS = {"lstm": nn.LSTM, "gru": nn.GRU, "tanh": nn.RNN}


def mixed_mask(lengths: list[int], steps: int, side: str) -> torch.Tensor:
    """True at real steps: right or left padding, or padding holes between real steps."""
    mask = torch.zeros(len(lengths), steps, dtype=torch.bool)
    for row, length in enumerate(lengths):
        if side == "right":
            mask[row, :length] = True
        elif side == "left":
            mask[row, steps - length :] = True
        else:
            mask[
                row, torch.randperm(steps, generator=torch.Generator().manual_seed(row))[:length]
            ] = True
    return mask


@pytest.mark.parametrize("kind", list(KERNELS))
@pytest.mark.parametrize("side", ["right", "left", "holes"])
def test_padded_path_equals_packed_path(kind, side):
    torch.manual_seed(0)
    rnn = KERNELS[kind](3, 4, batch_first=True)
    x, mask = torch.randn(4, 7, 3), mixed_mask([7, 3, 1, 0], 7, side)
    hx = torch.randn(1, 4, 4)
    hx = (hx, torch.randn(1, 4, 4)) if kind == "lstm" else hx
    with torch.no_grad():
        packed_outputs, packed_states = run_packed(rnn, x, mask, hx)
        padded_outputs, padded_h = run_padded(rnn, x, mask, hx)
    torch.testing.assert_close(padded_outputs, packed_outputs, atol=TOLERANCE, rtol=TOLERANCE)
    real = mask.any(1)  # a row without real steps: the layer puts its initial state back
    torch.testing.assert_close(padded_h[real], packed_states[0][real], atol=TOLERANCE, rtol=0)
    assert not padded_h[~real].any()  # the last output of a row with no real steps: zeros


@pytest.mark.parametrize("kind", ["lstm", "gru", "relu"])
def test_scan_equals_the_step_loop_with_masks_and_initial_states(kind):
    torch.manual_seed(0)
    gates = {"lstm": 4, "gru": 3}.get(kind, 1)
    weights = (torch.randn(gates * 4, 3), torch.randn(gates * 4, 4), torch.randn(gates * 4), None)
    x, mask = torch.randn(4, 6, 3), mixed_mask([6, 2, 4, 0], 6, "holes")
    states = [torch.randn(4, 4) for _ in range(2 if kind == "lstm" else 1)]
    for given_mask in (mask, None):
        expected = run_steps(kind, x, given_mask, states, weights)
        received = scan_steps(kind, x, given_mask, states, weights)
        torch.testing.assert_close(received, expected, atol=TOLERANCE, rtol=TOLERANCE)


class Branches(nn.Module):
    """Every recurrent layer, with the embedding's mask, its outputs side by side ``(N, ...)``."""

    def __init__(self) -> None:
        super().__init__()
        self.embedding = Embedding(VOCABULARY, 6, mask_zero=True)
        # The scans first: torch 2.13's ONNX exporter fails on a scan traced after the fused
        # kernels' data-dependent length (export_onnx then runs them over every step instead).
        self.recurrent = nn.ModuleList(
            [
                SimpleRNN(5, return_sequences=True, zero_output_for_mask=True),
                LSTM(5, return_state=True),  # its c at the last real step: the scan
                Bidirectional(LSTM(5, return_sequences=True)),  # forwards and go_backwards
                GRU(5),
            ]
        )

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        x, mask = self.embedding(ids), ids != 0
        outputs = []
        for layer in self.recurrent:
            result = layer(x, mask=mask)
            for part in result if isinstance(result, tuple) else (result,):
                outputs.append(part.flatten(1))  # (N, T * units) or (N, units)
        return torch.cat(outputs, dim=1)


def token_ids(lengths: list[int], steps: int, side: str, seed: int) -> torch.Tensor:
    ids = torch.randint(
        1, VOCABULARY, (len(lengths), steps), generator=torch.Generator().manual_seed(seed)
    )
    return ids.masked_fill(~mixed_mask(lengths, steps, side), 0)


def test_onnx_and_pt2_exports_equal_eager_on_mixed_lengths(tmp_path):
    torch.manual_seed(0)
    network = Branches().eval()
    example = token_ids([6, 3, 5], 6, "right", seed=1)
    with torch.no_grad():
        network(example)  # builds the layers
    # Other batch sizes and lengths than the example's, rows without padding or without words.
    batches = [
        token_ids([11, 4, 1, 0, 9, 2, 7], 11, "right", seed=2),
        token_ids([3, 8, 1], 9, "left", seed=3),
        token_ids([5, 2], 7, "holes", seed=4),
        token_ids([4], 4, "right", seed=5),
    ]
    with torch.no_grad():
        expected = [network(ids) for ids in batches]

    # ONNX first: torch's own exporter swaps the recurrent kernels too, and a later
    # torch.export in the same process must still keep the sequence length dynamic.
    export_onnx(network, example, tmp_path / "m.onnx", dynamic_axes=("batch", "steps"))
    operators = {node.op_type for node in onnx.load(tmp_path / "m.onnx").graph.node}
    assert {"LSTM", "GRU", "Scan"} <= operators  # fused kernels kept whole; SimpleRNN scanned
    session = onnxruntime.InferenceSession(tmp_path / "m.onnx", providers=["CPUExecutionProvider"])
    for ids, reference in zip(batches, expected, strict=True):
        received = torch.from_numpy(session.run(None, {"inputs": ids.numpy()})[0])
        torch.testing.assert_close(received, reference, atol=TOLERANCE, rtol=TOLERANCE)

    export_pt2(network, example, tmp_path / "m.pt2", dynamic_axes=("batch", "steps"))
    program = torch.export.load(tmp_path / "m.pt2")
    targets = {str(node.target) for node in program.graph.nodes}
    assert {"aten.lstm.input", "aten.gru.input"} <= targets
    for ids, reference in zip(batches, expected, strict=True):
        with torch.no_grad():
            received = program.module()(ids)
        torch.testing.assert_close(received, reference, atol=TOLERANCE, rtol=TOLERANCE)


def test_a_scan_after_a_fused_kernel_exports_to_onnx_over_every_step(tmp_path):
    torch.manual_seed(0)

    class LstmThenScan(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.embedding = Embedding(VOCABULARY, 6, mask_zero=True)
            self.lstm, self.simple = LSTM(5), SimpleRNN(4)

        def forward(self, ids: torch.Tensor) -> torch.Tensor:
            x, mask = self.embedding(ids), ids != 0
            return torch.cat([self.lstm(x, mask=mask), self.simple(x, mask=mask)], dim=1)

    network, example = LstmThenScan().eval(), token_ids([5, 2, 4], 5, "right", seed=1)
    ids = token_ids([9, 3, 1, 6], 9, "right", seed=2)
    with torch.no_grad():
        network(example)
        expected = network(ids)
    export_onnx(network, example, tmp_path / "m.onnx", dynamic_axes=("batch", "steps"))
    session = onnxruntime.InferenceSession(tmp_path / "m.onnx", providers=["CPUExecutionProvider"])
    received = torch.from_numpy(session.run(None, {"inputs": ids.numpy()})[0])
    torch.testing.assert_close(received, expected, atol=TOLERANCE, rtol=TOLERANCE)
