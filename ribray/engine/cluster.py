"""Joining a Ray cluster (`ribray sweep --address`) within a bounded time.

Ray 2.60's `ray.init(address=...)` retries an address where no GCS answers without end (about
40 s a try, each a few lines of warnings; no setting bounds the whole), also when something
else listens there. So before it, ribray waits for the GCS itself: the address resolved as
`ray.init` resolves it ('auto' and RAY_ADDRESS; 127.0.0.1 and localhost become this machine's
address), a TCP connection to it, then one GCS request; for at most `--connect-timeout` seconds
(RIBRAY_CONNECT_TIMEOUT, 60 by default: a head node that is still starting gets that long).
Past that, the sweep fails with the address and how to find the right one, before anything
runs. A Ray Client address (ray://host:port) gets the TCP wait only.
"""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from ribray.errors import RibrayError

CONNECT_TIMEOUT_S = 60.0
_FIND_IT = ("the head node's `ray start --head` printed the address (`ray start --address=HOST:PORT`, the GCS: "
            "port 6379 unless --port chose another), and /tmp/ray/ray_current_cluster there holds it; on a node "
            "of the cluster, --address auto finds it (or RAY_ADDRESS); `ray status --address HOST:PORT` checks "
            "one; --connect-timeout SECONDS waits longer for a cluster that is starting")


@dataclass(frozen=True)
class RayAddress:
    """Where a sweep runs: `address` None is the embedded Ray; else a cluster, waited for up
    to `connect_timeout_s` seconds."""

    address: str | None = None
    connect_timeout_s: float = CONNECT_TIMEOUT_S


def takes_connections(host: str, port: int, timeout_s: float) -> bool:
    return _connects(host, port, timeout_s) is True


def surely_closed(host: str, port: int, timeout_s: float) -> bool:
    """Nothing listens at host:port any more (refused, reset); a slow answer is not that."""
    return _connects(host, port, timeout_s) is False


def _connects(host: str, port: int, timeout_s: float) -> bool | None:
    """True: something takes connections there; False: refused or reset; None: no answer in time."""
    try:
        with socket.create_connection((host, port), timeout=timeout_s):
            return True
    except TimeoutError:
        return None
    except OSError:
        return False


def wait_for_cluster(address: str, timeout_s: float = CONNECT_TIMEOUT_S) -> None:
    """Return once a Ray cluster answers at `address`; RibrayError after `timeout_s` seconds."""
    host, port, client = _resolved(address)
    shown = f"{host}:{port}" + (f" ({address} as Ray resolves it)" if f"{host}:{port}" not in address else "")
    deadline = time.monotonic() + timeout_s
    while not takes_connections(host.strip("[]"), port, timeout_s=min(2.0, max(0.1, deadline - time.monotonic()))):
        if time.monotonic() >= deadline:
            raise RibrayError(f"--address {address}: no Ray cluster answers at {shown} after {timeout_s:g} s "
                              f"(nothing takes connections there); {_FIND_IT}")
        time.sleep(min(1.0, max(0.0, deadline - time.monotonic())))
    if not client and not _gcs_answers(f"{host}:{port}", deadline - time.monotonic()):
        raise RibrayError(f"--address {address}: something takes connections at {shown}, but no Ray GCS answered "
                          f"within {timeout_s:g} s (the dashboard's port 8265 and Ray Client's 10001 are not the "
                          f"GCS); {_FIND_IT}")


def _resolved(address: str) -> tuple[str, int, bool]:
    """(host, port, is a Ray Client address) as `ray.init` would use them."""
    if "://" in address:  # ray://host:port: Ray Client, whose server is no GCS
        parts = urlsplit(address)
        try:
            return parts.hostname or "", parts.port or 10001, True
        except ValueError as error:
            raise RibrayError(f"--address {address}: not ray://host:port ({error})") from None
    from ray._private.services import canonicalize_bootstrap_address  # what ray.init calls

    try:
        bootstrap = canonicalize_bootstrap_address(address)
    except (ConnectionError, ValueError) as error:
        raise RibrayError(f"--address {address}: {error}; {_FIND_IT}") from None
    host, _, port = (bootstrap or "").rpartition(":")
    if not host or not port.isdigit():
        raise RibrayError(f"--address {address}: not host:port or auto; {_FIND_IT}")
    return host, int(port), False


def _gcs_answers(address: str, timeout_s: float) -> bool:
    """One request to the GCS at `address` within `timeout_s` (in a thread: Ray's client takes
    10 s more than it is told when no GCS is there). A refusal for want of the cluster's auth
    token is an answer: ray.init then finds the token where Ray keeps it, or says so."""
    import ray._raylet
    from ray.exceptions import AuthenticationError

    answered: list[bool] = []

    def ask() -> None:
        try:
            ray._raylet.InnerGcsClient.standalone(address, None, max(1, int(timeout_s * 1000)))
            answered.append(True)
        except AuthenticationError:
            answered.append(True)
        except Exception:  # noqa: BLE001 - no answer (Ray's RpcError, or the connection refused)
            answered.append(False)

    asking = threading.Thread(target=ask, name="ribray-gcs-probe", daemon=True)
    asking.start()
    asking.join(max(0.0, timeout_s))
    return bool(answered and answered[0])
