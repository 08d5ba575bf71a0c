"""Fault test 3, run as a script (it needs its own Ray): a sweep on a local 3-node cluster
(head without GPU, two 1-GPU workers); the worker node running the fine-tune is killed
mid-epoch, as a spot preemption would. Writes the sweep's summary as JSON.

usage: python node_kill.py SPEC MARKER OUT_JSON
"""

from __future__ import annotations

import json
import sys
import threading
import time
from pathlib import Path

import psutil
import ray
from ray.cluster_utils import Cluster

from ribray.engine import run_sweep
from ribray.spec import load_spec


def node_running(cluster: Cluster, pid: int):
    """The worker node whose raylet is an ancestor of process `pid`."""
    ancestors = {p.pid for p in psutil.Process(pid).parents()}
    for node in cluster.worker_nodes:
        raylet = node.all_processes["raylet"][0].process.pid
        if raylet in ancestors:
            return node
    raise RuntimeError(f"no worker node runs process {pid}")


def main(spec_path: str, marker: str, out: str) -> None:
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1, "num_gpus": 0})
    for _ in range(2):
        cluster.add_node(num_cpus=1, num_gpus=1)
    cluster.wait_for_nodes()
    ray.init(address=cluster.address)
    summary = {}
    sweep = threading.Thread(target=lambda: summary.update(s=run_sweep(load_spec(spec_path), max_concurrent=1)))
    sweep.start()
    deadline = time.monotonic() + 300
    while not Path(marker).exists() or not Path(marker).read_text():
        if time.monotonic() > deadline:
            raise TimeoutError("the fine-tune never reached the injected pause")
        time.sleep(0.2)
    victim = node_running(cluster, int(Path(marker).read_text()))
    cluster.remove_node(victim, allow_graceful=False)
    sweep.join(timeout=240)
    result = summary["s"]
    Path(out).write_text(json.dumps({"complete": result.complete, "failed": result.failed,
                                     "nodes_left": len(cluster.worker_nodes)}))
    ray.shutdown()
    cluster.shutdown()


if __name__ == "__main__":
    main(*sys.argv[1:4])
