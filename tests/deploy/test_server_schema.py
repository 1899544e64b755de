"""ember serve against its own OpenAPI schema: schemathesis sends generated requests over HTTP to
a real uvicorn server, to every operation (valid and invalid bodies, odd headers); no answer is a
5xx, and every answer has a documented status and a body of the documented schema.

The one check left out is that schema-valid requests succeed: the schema can say "a binary file"
but not "a PNG of 28x28 pixels", so random uploads rightly get a 400."""

from __future__ import annotations

import socket
import threading
import time

import pytest
import schemathesis
import uvicorn
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

import ember
from ember.deploy.server import create_app


@pytest.fixture(scope="module")
def api(run):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    app = create_app(ember.Predictor(run), max_body_bytes=200_000)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "uvicorn did not start"
    yield schemathesis.openapi.from_url(f"http://127.0.0.1:{port}/openapi.json")
    server.should_exit = True
    thread.join(timeout=30)


schema = schemathesis.pytest.from_fixture("api")


@schema.parametrize()
@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_request_gets_a_server_error_or_an_undocumented_answer(case):
    response = case.call()
    assert response.status_code < 500, (case.method, case.path, response.text[:300])
    case.validate_response(response, excluded_checks=[positive_data_acceptance])
