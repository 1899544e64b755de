"""Deployment: trained networks out of ember, into files other runtimes load.

* :func:`export_onnx`, :func:`export_pt2`: any module, with a dynamic batch axis (and sequence
  axis for token ids: recurrent layers included) (``torch.export``; ONNX through torch's
  ``torch.export``-based exporter, with metadata).
* :func:`export_run` (``ember export RUN --format onnx|pt2``): a classification run's network with
  its softmax, its preprocessing and class names recorded (a text run's tokenizer beside it),
  checked against PyTorch; ``int8=True`` adds an ONNX Runtime int8 copy
  (:func:`quantize_onnx_static`, or :func:`quantize_onnx_dynamic` for text) measured beside it
  (:mod:`ember.deploy.comparison`).
* :func:`quantize_run` (``ember quantize RUN --method static|dynamic|qat``): int8 in PyTorch
  itself (:mod:`ember.quantization`), in a new folder, measured beside float32 and ONNX Runtime;
  text runs: dynamic int8 through ONNX Runtime.
* :class:`Predictor` (also ``ember.Predictor``): one ``predict`` for a run folder, an ONNX file
  (float32 or int8) or a ``.pt2`` program; files to a CSV; streaming with micro-batches.
* :func:`create_app` (``ember serve``, in :mod:`ember.deploy.server`): FastAPI with micro-batching
  and Prometheus metrics; :func:`write_triton_repository` for Triton's ONNX Runtime backend.
"""

from ember.deploy.exporters import export_onnx, export_pt2
from ember.deploy.onnx_int8 import quantize_onnx_dynamic, quantize_onnx_static
from ember.deploy.predictor import Predictor
from ember.deploy.run_export import Export, export_run
from ember.deploy.run_quantize import Quantized, quantize_run
from ember.deploy.triton import write_triton_repository

__all__ = [
    "Export",
    "Predictor",
    "Quantized",
    "export_onnx",
    "export_pt2",
    "export_run",
    "quantize_onnx_dynamic",
    "quantize_onnx_static",
    "quantize_run",
    "write_triton_repository",
]
