"""One ``predict`` for a run folder, an exported ONNX file (float32 or int8) or a ``.pt2`` program.

Text classifiers take strings too: a run's own tokenizer encodes them, or for an exported file
the ``tokenizer.json`` that ``ember export`` and ``ember quantize`` write beside it, padded and
cut to the length the run trained on, as ``ember predict --text`` does.

Batch inference over image and ``.npy`` files writes a CSV; streaming inference
(:meth:`Predictor.stream`) reads any iterator in a background thread into a bounded queue and
answers in order, in micro-batches of up to ``batch_size`` items gathered for at most
``max_wait`` seconds.
"""

from __future__ import annotations

import csv
import json
import queue
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from rich.progress import Progress

from ember import quantization
from ember.deploy.inputs import IMAGE_SUFFIXES, load_inputs, text_inputs
from ember.errors import ConfigError, ShapeError
from ember.files import atomic_path
from ember.nlp.text_inputs import TOKENIZER_FILE, TextEncoding, is_text_batch, load_tokenizer
from ember.runs import rundir
from ember.runs.training import load_experiment

_END = object()  # the stream's reader thread is done


class Predictor:
    """Class probabilities from a trained classifier, whatever form it is in.

    Args:
        source: a run folder (PyTorch, the run's preprocessing and classes), an ``.onnx`` file
            written by ``ember export`` (its metadata gives the input shape and classes), or a
            ``.pt2`` program (``ember export --format pt2``, or the int8 ``model.int8.pt2`` of
            ``ember quantize``, compiled onto int8 kernels on first use).
        checkpoint: for a run folder, ``"last"`` or ``"best"``.

    Example:
        >>> predictor = Predictor("runs/fashion-cnn/export/model.int8.onnx")  # doctest: +SKIP
        >>> predictor.predict(images).argmax(1)  # images: (N, 28, 28, 1) float32  # doctest: +SKIP
    """

    def __init__(self, source: str | Path, *, checkpoint: str = "last") -> None:
        self.source = Path(source)
        self.class_names: list[str] | None = None
        self.input_shape: tuple[int, ...] | None = None  # per sample
        self._encode: Any = None  # texts -> token ids, for a text classifier
        if self.source.is_dir():
            self._from_run(checkpoint)
        elif self.source.suffix == ".onnx" and self.source.is_file():
            self._from_onnx()
        elif self.source.suffix == ".pt2" and self.source.is_file():
            self._from_pt2()
        else:
            raise ConfigError(
                f"{self.source} is neither a run folder nor an .onnx or .pt2 file. Fix: pass a "
                f"folder made by `ember train`, or a file made by `ember export`."
            )

    # -- loading -------------------------------------------------------------------------------
    def _from_run(self, checkpoint: str) -> None:
        rundir.check_run(self.source)
        experiment, _ = load_experiment(self.source, checkpoint)
        experiment.network.cpu().eval()
        predict = experiment.predict  # softmax(network(x)), or the network's own probabilities

        def run(batch: np.ndarray) -> np.ndarray:
            with torch.inference_mode():
                return predict(torch.from_numpy(batch)).float().numpy()

        self.kind, self._run = "pytorch", run
        self.class_names = list(experiment.data.class_names)
        self.input_shape = tuple(experiment.data.input_shape)
        if experiment.tokenizer is not None:
            self._encode = lambda texts: text_inputs(experiment, texts)[1]

    def _from_onnx(self) -> None:
        import onnx
        import onnxruntime

        metadata = {
            p.key: p.value for p in onnx.load(self.source, load_external_data=False).metadata_props
        }
        session = onnxruntime.InferenceSession(self.source, providers=["CPUExecutionProvider"])
        name = session.get_inputs()[0].name
        self.kind = "onnx int8" if "quantization" in metadata else "onnx"
        self._run = lambda batch: session.run(None, {name: batch})[0]
        self._read_metadata(metadata)

    def _from_pt2(self) -> None:
        program, metadata = quantization.read(self.source)
        if metadata.get("quantization"):  # ember quantize's int8: compiled onto int8 kernels
            self.kind, compiled = "pt2 int8", quantization.Compiled(program.module())
            self._run = lambda batch: compiled(torch.from_numpy(batch)).numpy()
        else:
            self.kind, module = "pt2", program.module()
            self._run = lambda batch: module(torch.from_numpy(batch)).detach().numpy()
        self._read_metadata(metadata)

    def _read_metadata(self, metadata: dict[str, Any]) -> None:
        """Classes and input shape from a file's metadata; its tokenizer from beside it."""
        if "class_names" in metadata:
            self.class_names = json.loads(metadata["class_names"])
        if "input_shape" in metadata:
            self.input_shape = tuple(json.loads(metadata["input_shape"])[1:])
        tokenizer = self.source.with_name(TOKENIZER_FILE)
        if tokenizer.is_file():
            length = self.input_shape[0] if self.input_shape else None
            encoding = TextEncoding(load_tokenizer(tokenizer), length, truncation=bool(length))
            self._encode = encoding.encode

    # -- predicting ----------------------------------------------------------------------------
    def predict(self, inputs: Any, *, batch_size: int = 256) -> np.ndarray:
        """Class probabilities ``(N, classes)`` for a batch of preprocessed inputs, or for a list
        of strings (text classifiers)."""
        if is_text_batch(inputs):
            if self._encode is None:
                raise ConfigError(
                    f"{self.source} has no tokenizer to encode texts with (received "
                    f"{len(inputs)} strings). Fix: pass token ids, a text run's folder, or keep "
                    f"the {TOKENIZER_FILE} that ember export wrote beside the file."
                )
            inputs = self._encode(list(inputs))
        array = np.asarray(inputs.cpu() if isinstance(inputs, torch.Tensor) else inputs)
        ids = array.dtype.kind in "iu" and self._encode is not None  # a text classifier's
        if self.input_shape is not None and tuple(array.shape[1:]) != self.input_shape:
            how = (
                "token ids right-padded with 0, or the texts as a list of strings"
                if ids
                else "images: float32 in [0, 1], channels last"
            )
            raise ShapeError(
                f"expected inputs of shape (N, {', '.join(map(str, self.input_shape))}), "
                f"received {tuple(array.shape)}. Fix: preprocess them as in training ({how})."
            )
        if array.dtype.kind == "f":
            array = array.astype(np.float32, copy=False)
        elif ids:  # token ids: what the network and an exported file take
            array = array.astype(np.int64, copy=False)
        parts = [
            self._run(np.ascontiguousarray(array[i : i + batch_size]))
            for i in range(0, len(array), batch_size)
        ]
        return np.concatenate(parts) if parts else np.zeros((0, len(self.class_names or [])))

    def predict_files(
        self,
        files: Sequence[Path],
        out: Path | None = None,
        *,
        batch_size: int = 64,
        resize: bool = False,
        verbose: int = 0,
    ) -> list[dict[str, Any]]:
        """Predict image (PNG/JPG) and ``.npy`` files, and every such file in given folders.

        Files are read ``batch_size`` at a time (memory stays bounded, with a progress bar when
        ``verbose``). One row per input (name, class, probability, then every class's
        probability) is returned and, when ``out`` is given, written there as CSV.
        """
        if self.input_shape is None:
            raise ConfigError(f"{self.source} does not record its input shape. Fix: re-export it.")
        paths = expand_files(files)
        rows: list[dict[str, Any]] = []
        with Progress(disable=not verbose, transient=True) as progress:
            task = progress.add_task("predicting", total=len(paths))
            for start in range(0, len(paths), batch_size):
                chunk = paths[start : start + batch_size]
                names, inputs = load_inputs(chunk, self.input_shape, resize=resize)
                rows += self._rows(names, self.predict(inputs.numpy(), batch_size=batch_size))
                progress.advance(task, len(chunk))
        if out is not None:
            with atomic_path(out) as temporary, open(temporary, "w", newline="") as handle:
                writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
                writer.writeheader()
                writer.writerows(rows)
        return rows

    def _rows(self, names: Sequence[str], probabilities: np.ndarray) -> list[dict[str, Any]]:
        classes = self.class_names or [str(i) for i in range(probabilities.shape[1])]
        return [
            {
                "name": name,
                "class": classes[int(p.argmax())],
                "probability": float(p.max()),
                **{c: float(v) for c, v in zip(classes, p)},
            }
            for name, p in zip(names, probabilities)
        ]

    def stream(
        self, items: Iterable[Any], *, batch_size: int = 32, max_wait: float = 0.01
    ) -> Iterator[np.ndarray]:
        """Each item's class probabilities, in order, computed in micro-batches.

        ``items`` (single samples) are read by a background thread into a queue of at most
        ``4 * batch_size`` (memory stays bounded whatever the source); a batch is run when it
        holds ``batch_size`` items or ``max_wait`` seconds after its first item arrived.

        Example:
            >>> import numpy as np
            >>> predictor = Predictor.__new__(Predictor)
            >>> predictor.input_shape, predictor._run = None, lambda batch: batch * 2
            >>> [float(r[0]) for r in predictor.stream(np.ones((5, 1), np.float32), batch_size=2)]
            [2.0, 2.0, 2.0, 2.0, 2.0]
        """
        pending: queue.Queue = queue.Queue(maxsize=4 * batch_size)

        def read() -> None:
            try:
                for item in items:
                    pending.put(item)
            except BaseException as error:  # handed to the consumer, raised there
                pending.put(error)
            pending.put(_END)

        threading.Thread(target=read, daemon=True).start()
        done = False
        while not done:
            batch = [pending.get()]
            deadline = time.monotonic() + max_wait
            while len(batch) < batch_size and batch[-1] is not _END:
                try:
                    batch.append(pending.get(timeout=max(0.0, deadline - time.monotonic())))
                except queue.Empty:
                    break
            if batch[-1] is _END:
                done = True
                batch.pop()
            for item in batch:
                if isinstance(item, BaseException):
                    raise item
            if batch:
                texts = all(isinstance(item, str) for item in batch)
                yield from self.predict(
                    batch if texts else np.stack([np.asarray(item) for item in batch])
                )


def expand_files(files: Sequence[Path]) -> list[Path]:
    """The files given, with each folder replaced by its image and ``.npy`` files (sorted).

    Example:
        >>> import tempfile
        >>> folder = Path(tempfile.mkdtemp())
        >>> for name in ("b.png", "a.npy", "notes.txt"):
        ...     _ = (folder / name).write_bytes(b"")
        >>> [p.name for p in expand_files([folder])]
        ['a.npy', 'b.png']
    """
    paths: list[Path] = []
    for path in map(Path, files):
        if path.is_dir():
            paths += sorted(
                p for p in path.iterdir() if p.suffix.lower() in {*IMAGE_SUFFIXES, ".npy"}
            )
        else:
            paths.append(path)
    if not paths:
        raise ConfigError(
            f"no image (.png/.jpg) or .npy files in {', '.join(map(str, files)) or 'the list'}. "
            f"Fix: pass files, or a folder that holds some."
        )
    return paths
