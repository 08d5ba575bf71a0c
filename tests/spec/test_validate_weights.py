"""`ribray validate` with pretrained weights that are not cached: "ok" only when the server they
download from answers (asked once, within a few seconds); else one problem naming the models,
their sizes and how to get the weights. No test reaches the network: the hub is a local server."""

from __future__ import annotations

import http.server
import socket
import threading

import pytest
from click.testing import CliRunner

from ribray.cli import main

from conftest import tiny_spec, write_spec

MODEL = "resnet18.a1_in1k"  # hub weights timm/resnet18.a1_in1k; 11.7M parameters = 45 MiB in fp32


@pytest.fixture
def online(tmp_path, monkeypatch):
    """Hub access allowed, with an empty Hugging Face cache; returns a function that points the
    hub endpoint at a URL."""
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    return lambda endpoint: monkeypatch.setattr(constants, "ENDPOINT", endpoint)


def _validate(tmp_path, fake_data):
    spec = tiny_spec(tmp_path, fake_data, models=[MODEL, "tiny_vit"], downstream=["imagenet_r"])
    return CliRunner().invoke(main, ["validate", str(write_spec(tmp_path / "spec.yaml", spec)), "--no-data"])


def test_weights_that_cannot_be_downloaded_are_not_ok(tmp_path, fake_data, online):
    online("http://127.0.0.1:1")  # nothing listens there
    result = _validate(tmp_path, fake_data)
    assert result.exit_code == 1, result.output
    assert ("  models: pretrained weights not cached, and http://127.0.0.1:1/ cannot be reached (" in result.output
            and f"): models.0 {MODEL} (45 MiB)\n" in result.output)
    assert f"  models: Download them on a machine with internet (`HF_HUB_OFFLINE=0 ribray models --download {MODEL}`)" \
        in result.output
    assert "tiny_vit" not in result.output and ": ok" not in result.output  # random init: nothing to download


def test_a_hub_that_never_answers_is_given_up_on_after_the_timeout(tmp_path, fake_data, online, monkeypatch):
    import time

    from ribray.models import hub

    silent = socket.create_server(("127.0.0.1", 0))  # accepts connections, never answers
    monkeypatch.setattr(hub, "HUB_TIMEOUT_S", 0.5)
    online(f"http://127.0.0.1:{silent.getsockname()[1]}")
    started = time.monotonic()
    try:
        result = _validate(tmp_path, fake_data)
    finally:
        silent.close()
    assert result.exit_code == 1
    assert f"did not answer within 0.5 s: models.0 {MODEL} (45 MiB)" in result.output
    assert time.monotonic() - started < 20


class _Hub(http.server.BaseHTTPRequestHandler):
    def do_HEAD(self):  # noqa: N802 - http.server's name
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_weights_the_hub_can_serve_are_ok_and_listed_with_their_size(tmp_path, fake_data, online):
    server = http.server.HTTPServer(("127.0.0.1", 0), _Hub)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    online(f"http://127.0.0.1:{server.server_port}")
    try:
        result = _validate(tmp_path, fake_data)
    finally:
        server.shutdown()
    assert result.exit_code == 0, result.output
    assert (f"pretrained weights not cached, downloaded from 127.0.0.1:{server.server_port} (it answers) by the first "
            f"trial that builds each: models.0 {MODEL} (45 MiB)") in result.output
    assert result.output.endswith(": ok\n")


def test_offline_the_missing_weights_are_listed_as_before(tmp_path, fake_data, online, monkeypatch):
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    result = _validate(tmp_path, fake_data)
    assert result.exit_code == 1
    assert f"models.0: pretrained weights of model {MODEL} are not available offline" in result.output
