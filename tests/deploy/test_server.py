"""ember serve: predictions over HTTP, 4xx JSON errors for bad requests, metrics, micro-batching."""

from __future__ import annotations

import asyncio
import io
import shutil
import socket

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

import ember
from ember.cli import main
from ember.deploy.batching import MicroBatcher
from ember.deploy.server import create_app
from ember.runs import training


@pytest.fixture(scope="module")
def predictor(run):
    return ember.Predictor(run)


@pytest.fixture(scope="module")
def client(predictor):
    with TestClient(create_app(predictor, max_body_bytes=200_000)) as client:
        yield client


@pytest.fixture(scope="module")
def images(run):
    experiment, _ = training.load_experiment(run)
    return experiment.data.test[0][:3].numpy()


def test_predictions_match_the_predictor(client, predictor, images):
    one = client.post("/v1/predict", json={"inputs": images[0].tolist()})
    batch = client.post("/v1/predict", json={"inputs": images.tolist()})
    assert one.status_code == batch.status_code == 200
    expected = predictor.predict(images)
    received = np.array([p["probabilities"] for p in batch.json()["predictions"]])
    assert np.abs(received - expected).max() < 1e-6
    assert one.json()["predictions"][0]["class"] == predictor.class_names[expected[0].argmax()]


def test_an_uploaded_image_is_predicted(client, predictor, images):
    buffer = io.BytesIO()
    Image.fromarray((images[0, ..., 0] * 255).round().astype(np.uint8)).save(buffer, "PNG")
    response = client.post("/v1/predict", files={"file": ("shoe.png", buffer.getvalue())})
    assert response.status_code == 200
    pixels = (images[:1] * 255).round() / 255
    expected = predictor.predict(pixels.astype(np.float32))[0]
    assert (
        np.abs(np.array(response.json()["predictions"][0]["probabilities"]) - expected).max() < 1e-5
    )


@pytest.mark.parametrize(
    "kwargs, status, words",
    [
        ({"json": {"inputs": [[1.0, 2.0]]}}, 422, "expected inputs of shape [28, 28, 1]"),
        ({"json": {"inputs": "shoe"}}, 422, "numbers"),
        ({"json": {"inputs": [["a"] * 28] * 28}}, 422, "numbers"),
        ({"json": {"pixels": []}}, 422, '{"inputs": [...]}'),
        ({"content": b"{not json", "headers": {"content-type": "application/json"}}, 400, "JSON"),
        ({"files": {"file": ("x.png", b"not an image")}}, 400, "not a readable image"),
        ({"json": {"inputs": [[[3e38]] * 28] * 28}}, 422, "outputs are not finite"),
        (
            {"content": b"--x\r\nbad\r\n", "headers": {"content-type": "multipart/form-data"}},
            400,
            "",
        ),
        (
            {"content": bytes(300_000), "headers": {"content-type": "application/json"}},
            413,
            "limit",
        ),
    ],
)
def test_bad_requests_get_a_json_error_and_the_server_keeps_serving(client, kwargs, status, words):
    response = client.post("/v1/predict", **kwargs)
    assert response.status_code == status and words in response.json()["error"]
    assert client.get("/health").json() == {"status": "ok"}


def test_metadata_schema_and_metrics(client, predictor):
    metadata = client.get("/v1/metadata").json()
    assert metadata["input_shape"] == [None, 28, 28, 1]
    assert metadata["class_names"] == predictor.class_names
    assert "/v1/predict" in client.get("/openapi.json").json()["paths"]
    text = client.get("/metrics").text
    assert 'ember_requests_total{endpoint="/v1/predict",status="200"}' in text
    assert "ember_request_seconds_bucket" in text and "ember_batch_size_count" in text


def test_concurrent_requests_share_forward_passes():
    sizes = []
    # a generous wait: on a loaded machine the worker must not give up between queued requests
    batcher = MicroBatcher(
        lambda x: sizes.append(len(x)) or x + 1, max_batch_size=8, max_wait_ms=500
    )

    async def many():
        batcher.start()
        answers = await asyncio.gather(
            *(batcher.submit(np.full((1, 1), i, np.float32)) for i in range(20))
        )
        await batcher.stop()
        return answers

    answers = asyncio.run(many())
    assert [float(a[0, 0]) for a in answers] == [i + 1.0 for i in range(20)]
    assert sizes == [8, 8, 4]


def test_serve_refuses_a_port_in_use_and_a_run_without_checkpoint(run, tmp_path, capsys):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["serve", str(run), "--port", str(port)]) == 1
    assert "port is in use" in capsys.readouterr().out
    empty = tmp_path / "empty"
    empty.mkdir()
    shutil.copy(run / "config.yaml", empty / "config.yaml")
    (empty / "metrics.jsonl").touch()
    assert main(["serve", str(empty)]) == 2
    assert "no last checkpoint" in capsys.readouterr().err
