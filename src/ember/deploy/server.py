"""``ember serve``: a classifier behind HTTP (FastAPI on uvicorn), micro-batched, measured.

Endpoints: ``POST /v1/predict`` (a JSON array of inputs, or an uploaded image), ``GET /health``,
``GET /v1/metadata`` (input shape, classes, versions), ``GET /metrics`` (Prometheus: requests by
endpoint and status, latency, batch sizes) and FastAPI's ``/openapi.json`` and ``/docs``. Bad
requests get a 4xx JSON ``{"error": ...}`` naming the problem; the server keeps serving.
"""

from __future__ import annotations

import io
import json
import time
from contextlib import asynccontextmanager
from typing import Any

import numpy as np
import torch
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from starlette.exceptions import HTTPException

from ember.deploy.batching import MicroBatcher
from ember.deploy.predictor import Predictor
from ember.errors import ShapeError
from ember.version import __version__

MAX_BODY_BYTES = 8 * 1024 * 1024  # a request larger than this gets 413


class RequestError(Exception):
    """A request the server refuses, with its HTTP status."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def create_app(
    predictor: Predictor,
    *,
    max_batch_size: int = 32,
    max_wait_ms: float = 5.0,
    max_body_bytes: int = MAX_BODY_BYTES,
) -> FastAPI:
    """The FastAPI app serving ``predictor`` (run it with uvicorn, or test it with TestClient)."""
    registry = CollectorRegistry()  # per app, so that two apps in one process do not collide
    requests = Counter(
        "ember_requests",
        "requests by endpoint and status",
        ["endpoint", "status"],
        registry=registry,
    )
    latency = Histogram(
        "ember_request_seconds",
        "request latency",
        ["endpoint"],
        registry=registry,
        buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
    )
    batch_sizes = Histogram(
        "ember_batch_size",
        "rows per forward pass",
        registry=registry,
        buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256),
    )
    batcher = MicroBatcher(
        predictor.predict,
        max_batch_size=max_batch_size,
        max_wait_ms=max_wait_ms,
        on_batch=batch_sizes.observe,
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> Any:
        batcher.start()
        yield
        await batcher.stop()  # in-flight requests finish before the server exits

    app = FastAPI(title="ember", version=__version__, lifespan=lifespan)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, error: HTTPException) -> Response:
        # Starlette's own refusals (a malformed multipart body, 404, 405) in ember's error shape.
        response = _error(error.status_code, str(error.detail))
        response.headers.update(error.headers or {})  # 405 names the allowed methods
        return response

    @app.middleware("http")
    async def measure(request: Request, call_next: Any) -> Response:
        start = time.perf_counter()
        length = request.headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > max_body_bytes:
            response: Response = _error(
                413,
                f"the request body is {length} bytes, over the "
                f"limit of {max_body_bytes}. Fix: send fewer inputs "
                f"per request.",
            )
        else:
            response = await call_next(request)
        endpoint = request.url.path
        requests.labels(endpoint, str(response.status_code)).inc()
        latency.labels(endpoint).observe(time.perf_counter() - start)
        return response

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/v1/metadata")
    async def metadata() -> dict[str, Any]:
        return {
            "source": str(predictor.source),
            "kind": predictor.kind,
            "input_shape": [None, *(predictor.input_shape or ())],
            "class_names": predictor.class_names,
            "max_batch_size": max_batch_size,
            "max_wait_ms": max_wait_ms,
            "versions": {"ember": __version__, "torch": torch.__version__},
        }

    @app.post(
        "/v1/predict",
        openapi_extra={"requestBody": _request_body(predictor.input_shape)},
        responses={
            200: {"description": "one prediction per input", "content": _json(_PREDICTIONS)},
            400: {"description": "not JSON, or an unreadable upload", "content": _json(_ERROR)},
            413: {"description": "the body is over the size limit", "content": _json(_ERROR)},
            422: {"description": "inputs of the wrong shape or type", "content": _json(_ERROR)},
        },
    )
    async def predict(request: Request) -> Response:
        try:
            body = await request.body()
            if len(body) > max_body_bytes:
                raise RequestError(413, f"the request body is over {max_body_bytes} bytes")
            inputs = await _read_inputs(request, body, predictor)
            probabilities = await batcher.submit(inputs)
            if not np.isfinite(probabilities).all():
                raise RequestError(
                    422,
                    f"the model's outputs are not finite for these inputs (their largest "
                    f"magnitude is {float(np.abs(inputs).max()):.3g}). Fix: send inputs "
                    f"preprocessed as in training (images: values in [0, 1]).",
                )
        except RequestError as error:
            return _error(error.status, str(error))
        except ShapeError as error:
            return _error(422, str(error))
        names = predictor.class_names or [str(i) for i in range(probabilities.shape[1])]
        return JSONResponse(
            {
                "predictions": [
                    {
                        "class": names[int(p.argmax())],
                        "probability": float(p.max()),
                        "probabilities": [float(v) for v in p],
                    }
                    for p in probabilities
                ]
            }
        )

    @app.get(
        "/metrics",
        response_class=Response,
        responses={
            200: {
                "description": "Prometheus' text exposition format",
                "content": {"text/plain": {"schema": {"type": "string"}}},
            }
        },
    )
    async def metrics() -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    return app


async def _read_inputs(request: Request, body: bytes, predictor: Predictor) -> np.ndarray:
    """A batch ``(N, *input_shape)`` float32 from a JSON body or an uploaded image."""
    shape = predictor.input_shape
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("image/"):
        return _decode_image(body, shape)[None]
    if content_type.startswith("multipart/form-data"):
        form = await request.form()
        uploads = [value for value in form.values() if hasattr(value, "read")]
        if not uploads:
            raise RequestError(400, "the form holds no file. Fix: send the image as a file field.")
        return _decode_image(await uploads[0].read(), shape)[None]
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError) as error:
        raise RequestError(
            400,
            f'the body is not JSON ({error}). Fix: send {{"inputs": [...]}} or an image upload.',
        ) from error
    values = payload.get("inputs") if isinstance(payload, dict) else None
    if values is None:
        raise RequestError(422, 'expected a JSON object {"inputs": [...]} (one input or a list).')
    try:
        with np.errstate(over="ignore"):  # beyond float32: infinity, refused just below
            array = np.asarray(values, dtype=np.float32)
    except (ValueError, TypeError) as error:
        raise RequestError(422, f"inputs must be numbers in nested lists ({error}).") from error
    if shape is not None and tuple(array.shape) == tuple(shape):
        array = array[None]  # one input without its batch axis
    if shape is not None and tuple(array.shape[1:]) != tuple(shape):
        raise RequestError(
            422,
            f"expected inputs of shape {list(shape)} (or a list of them), received "
            f"shape {list(array.shape)}.",
        )
    if not np.isfinite(array).all():
        raise RequestError(422, "inputs hold NaN or infinity.")
    return array


def _decode_image(data: bytes, shape: tuple[int, ...] | None) -> np.ndarray:
    from PIL import Image, UnidentifiedImageError

    try:
        image = Image.open(io.BytesIO(data))
        image.load()
    except (OSError, UnidentifiedImageError) as error:
        raise RequestError(400, f"the upload is not a readable image ({error}).") from error
    if shape is None or len(shape) != 3:
        raise RequestError(422, "this model does not take images. Fix: send JSON inputs.")
    height, width, channels = shape
    if (image.height, image.width) != (height, width):
        raise RequestError(
            422,
            f"the image is {image.width}x{image.height}; the model expects {width}x{height}. "
            f"Fix: resize it before sending.",
        )
    mode = "L" if channels == 1 else "RGB"
    array = np.asarray(image.convert(mode), dtype=np.float32) / 255.0
    return array.reshape(height, width, channels)


_ERROR = {"type": "object", "required": ["error"], "properties": {"error": {"type": "string"}}}
_PREDICTIONS = {
    "type": "object",
    "required": ["predictions"],
    "properties": {
        "predictions": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["class", "probability", "probabilities"],
                "properties": {
                    "class": {"type": "string"},
                    "probability": {"type": "number"},
                    "probabilities": {"type": "array", "items": {"type": "number"}},
                },
            },
        }
    },
}


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}


def _request_body(shape: tuple[int, ...] | None) -> dict[str, Any]:
    """The OpenAPI request body of ``/v1/predict``: JSON inputs of the model's shape (one, or a
    list of them), a multipart file, or an image body. The predict route reads the raw request
    (a model's shape is only known at run time), so FastAPI cannot infer this from a signature."""
    number = {"type": "number", "minimum": -3.4e38, "maximum": 3.4e38}  # finite in float32
    one: dict[str, Any] = number
    for size in reversed(shape or ()):
        one = {"type": "array", "items": one, "minItems": size, "maxItems": size}
    if shape is None:
        one = {"type": "array"}
    batch = {"type": "array", "items": one, "minItems": 1}
    inputs = {
        "type": "object",
        "required": ["inputs"],
        "properties": {"inputs": {"anyOf": [one, batch]}},
    }
    upload = {
        "type": "object",
        "required": ["file"],
        "properties": {"file": {"type": "string", "format": "binary"}},
    }
    return {
        "required": True,
        "content": {
            "application/json": {"schema": inputs},
            "multipart/form-data": {"schema": upload},
            "image/png": {"schema": {"type": "string", "format": "binary"}},
        },
    }


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)
