"""`--address` waits a bounded time: where nothing, or something that is not a Ray GCS, answers,
the sweep fails after `--connect-timeout` seconds with the address; a live GCS is joined at once.
(The CLI's case, an address where nothing listens, is a row of tests/test_bad_input.py.)"""

from __future__ import annotations

import socket
import time

import pytest

from ribray.engine.cluster import surely_closed, wait_for_cluster
from ribray.engine.tune_run import embedded_ray_answers
from ribray.errors import RibrayError


def test_something_that_is_not_a_gcs_fails_after_the_timeout():
    with socket.socket() as listener:  # takes connections, answers nothing (like a wrong port)
        listener.bind(("0.0.0.0", 0))  # Ray reads 127.0.0.1 as the machine's address
        listener.listen()
        port = listener.getsockname()[1]
        started = time.monotonic()
        with pytest.raises(RibrayError) as refused:
            wait_for_cluster(f"127.0.0.1:{port}", timeout_s=1.5)
    assert time.monotonic() - started < 4
    message = str(refused.value)
    assert f"--address 127.0.0.1:{port}" in message and "no Ray GCS answered within 1.5 s" in message
    assert "ray_current_cluster" in message


def test_an_address_that_is_not_host_and_port_is_refused_at_once():
    with pytest.raises(RibrayError, match="--address no-port-here: .*--address auto"):
        wait_for_cluster("no-port-here", timeout_s=30)


def test_a_live_gcs_is_joined_at_once_and_the_embedded_ray_is_watched(ray_cluster):
    started = time.monotonic()
    wait_for_cluster(ray_cluster.get_runtime_context().gcs_address, timeout_s=30)
    assert time.monotonic() - started < 5
    answers = embedded_ray_answers()
    assert answers is not None and answers()


def test_a_port_is_surely_closed_only_when_refused_not_when_slow(monkeypatch):
    """The SIGTERM watcher abandons a stop on the first "surely closed": never for a slow answer."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        assert not surely_closed("127.0.0.1", port, timeout_s=1.0)
    assert surely_closed("127.0.0.1", port, timeout_s=1.0)  # the listener is gone: refused

    def slow(*_args, **_kwargs):
        raise TimeoutError("timed out")

    monkeypatch.setattr(socket, "create_connection", slow)
    assert not surely_closed("127.0.0.1", port, timeout_s=0.01)
