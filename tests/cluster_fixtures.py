"""A throwaway autoscaling Ray cluster on this machine, for tests that need real scale-up/down.

`cluster/fake_autoscale.yaml` is started with Ray's fake multi-node provider
(`RAY_FAKE_CLUSTER=1 ray start --head --autoscaling-config=...`): the autoscaler launches
"GPU worker nodes" as local Ray processes that advertise one fake GPU each, and removes them
when idle. Every process listens on 127.0.0.1 and is stopped by `stop()`, which kills exactly
the processes this cluster started (never `ray stop`, which would kill every Ray on the machine).

Use it from a test module:

    from cluster_fixtures import autoscaling_cluster  # noqa: F401  (the pytest fixture)

    def test_x(autoscaling_cluster):
        subprocess.run([..., "ribray", "sweep", spec, "--address", autoscaling_cluster.address],
                       env=autoscaling_cluster.driver_env(), check=True)

Drivers must run in their own process (a Python process joins one Ray cluster at most, and the
test session already has its own local Ray) with `driver_env()`, which keeps them on 127.0.0.1
and carries the cluster's auth token (`--address auto` works too: it sets RAY_ADDRESS). A fake
GPU worker has 1 CPU and 1 GPU, so a sweep spec for it asks `resources: {gpu: 1, cpu: 1}`; all
nodes share this machine's disk, so a local `storage:` folder is shared storage here.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
FAKE_AUTOSCALE_CONFIG = REPO / "cluster" / "fake_autoscale.yaml"
RAY_CLI = str(Path(sys.executable).with_name("ray"))
MARKER_VARIABLE = "RIBRAY_FAKE_CLUSTER_ID"

# With this off, Ray resolves "this node's address" to 127.0.0.1 instead of the machine's
# interface address, in the head, in the fake workers the autoscaler starts, and in drivers.
# (`--node-ip-address 127.0.0.1` alone is rewritten to the interface address by `ray start`.)
LOOPBACK_ONLY = {"RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0"}


def free_port() -> int:
    """A TCP port that is free on 127.0.0.1 right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class FakeAutoscalingCluster:
    """A running fake autoscaling cluster: `address` is its GCS, `127.0.0.1:<port>`."""

    address: str
    temp_dir: Path
    marker: str

    @property
    def token_file(self) -> Path:
        return self.temp_dir / "auth_token"

    def ray_env(self) -> dict[str, str]:
        """Variables every process of this cluster and its drivers share."""
        # Token auth with a token of its own: Ray's default token (~/.ray/auth_token) may
        # belong to other Ray instances on this machine, or be missing.
        return {**LOOPBACK_ONLY, "RAY_AUTH_MODE": "token",
                "RAY_AUTH_TOKEN_PATH": str(self.token_file), "RAY_USAGE_STATS_ENABLED": "0"}

    def driver_env(self, **extra: str) -> dict[str, str]:
        """Environment for a driver process that joins this cluster (`ray.init(address=...)`)."""
        env = {**os.environ, **self.ray_env(), "RAY_ADDRESS": self.address}
        env.pop("RAY_AUTH_TOKEN", None)
        env.update(extra)
        return env

    def log_tail(self, name: str = "monitor.log", lines: int = 40) -> str:
        """The end of one of the head's logs (the autoscaler's is monitor.log), for failures."""
        path = self.temp_dir / "session_latest" / "logs" / name
        if not path.is_file():
            return f"(no {name})"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])

    def processes(self) -> list[int]:
        """Process ids of everything this cluster started (head, autoscaler, fake workers)."""
        return cluster_processes(self.marker, str(self.temp_dir))

    def stop(self, grace_s: float = 2.0) -> None:
        """Kill this cluster's processes (SIGTERM, then SIGKILL) and remove its temp dir."""
        terminate(self.processes(), grace_s)
        terminate(self.processes(), grace_s=1.0)  # workers that were starting while we looked
        leftovers = self.processes()
        if leftovers:
            raise RuntimeError(f"fake cluster processes survived SIGKILL: {leftovers}")
        shutil.rmtree(self.temp_dir, ignore_errors=True)


def start_fake_cluster(config_path: Path = FAKE_AUTOSCALE_CONFIG,
                       timeout_s: float = 90.0) -> FakeAutoscalingCluster:
    """Start the head of a fake autoscaling cluster on a free port; workers come on demand."""
    # Short: Ray's unix sockets live under it and socket paths are limited to ~107 bytes.
    temp_dir = Path(tempfile.mkdtemp(prefix="rbfc-", dir="/tmp"))
    port = free_port()
    config = yaml.safe_load(config_path.read_text())
    # Fake workers join provider.gcs_address (default: <node ip>:6379, maybe someone else's).
    config["provider"]["gcs_address"] = f"127.0.0.1:{port}"
    config_file = temp_dir / "autoscale.yaml"
    config_file.write_text(yaml.safe_dump(config))
    head = config["available_node_types"][config["head_node_type"]]["resources"]
    cluster = FakeAutoscalingCluster(f"127.0.0.1:{port}", temp_dir, uuid.uuid4().hex)
    with os.fdopen(os.open(cluster.token_file, os.O_WRONLY | os.O_CREAT, 0o600), "w") as token:
        token.write(secrets.token_hex(32))
    try:
        _run_ray_start(cluster, config_file, port, head, timeout_s)
    except BaseException:
        cluster.stop()
        raise
    return cluster


def _run_ray_start(cluster: FakeAutoscalingCluster, config_file: Path, port: int,
                   head: dict, timeout_s: float) -> None:
    command = [
        RAY_CLI, "start", "--head", f"--autoscaling-config={config_file}", f"--port={port}",
        "--node-ip-address=127.0.0.1", f"--temp-dir={cluster.temp_dir}",
        f"--num-cpus={head.get('CPU', 0)}", f"--num-gpus={head.get('GPU', 0)}",
        # No dashboard (it needs ray[default]); its per-node agent still listens, on a free port.
        "--include-dashboard=false", "--dashboard-host=127.0.0.1",
        f"--dashboard-agent-listen-port={free_port()}", "--disable-usage-stats",
    ]
    env = {**os.environ, **cluster.ray_env(), "RAY_FAKE_CLUSTER": "1",
           "AUTOSCALER_UPDATE_INTERVAL_S": "1", MARKER_VARIABLE: cluster.marker}
    for inherited in ("RAY_ADDRESS", "RAY_AUTH_TOKEN"):
        env.pop(inherited, None)
    started = subprocess.run(command, env=env, capture_output=True, text=True, timeout=timeout_s)
    if started.returncode != 0:
        raise RuntimeError(f"`ray start` failed ({started.returncode}):\n{started.stderr[-4000:]}")


def cluster_processes(marker: str, temp_dir: str) -> list[int]:
    """Processes carrying the cluster's marker variable or temp dir, and all their descendants.

    Ray's processes show one or the other (the raylet hands its agents a fresh environment and
    they rename themselves), so both are looked for, then children are added to a fixpoint.
    """
    table = _process_table()
    found = {pid for pid, (_, cmdline, environ) in table.items()
             if temp_dir in cmdline or f"{MARKER_VARIABLE}={marker}" in environ}
    changed = True
    while changed:
        children = {pid for pid, (ppid, _, _) in table.items() if ppid in found} - found
        found |= children
        changed = bool(children)
    found.discard(os.getpid())
    return sorted(found)


def _process_table() -> dict[int, tuple[int, str, set[str]]]:
    """pid -> (parent pid, command line, environment entries) of this user's processes."""
    table = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            environ = set((entry / "environ").read_bytes().decode(errors="replace").split("\0"))
        except OSError:  # gone, or not ours
            continue
        ppid = int(stat[stat.rfind(")") + 2:].split()[1])  # the name may hold spaces
        table[int(entry.name)] = (ppid, cmdline, environ)
    return table


def terminate(pids: list[int], grace_s: float) -> None:
    """SIGTERM the processes, wait up to `grace_s`, then SIGKILL the ones still there."""
    for sig, wait_s in ((signal.SIGTERM, grace_s), (signal.SIGKILL, 5.0)):
        for pid in pids:
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline and any(_alive(pid) for pid in pids):
            time.sleep(0.2)
        pids = [pid for pid in pids if _alive(pid)]
        if not pids:
            return


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return state[state.rfind(")") + 2] != "Z"  # a zombie is dead, only not yet reaped


@pytest.fixture(scope="module")
def autoscaling_cluster() -> Iterator[FakeAutoscalingCluster]:
    """A fake autoscaling cluster (CPU head, 0-2 one-GPU workers) for one test module."""
    cluster = start_fake_cluster()
    try:
        yield cluster
    finally:
        cluster.stop()
