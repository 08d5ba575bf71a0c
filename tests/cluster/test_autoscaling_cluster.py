"""The GPU worker type of our cluster configs scales 0 -> max under load and back to 0 when idle.

Runs `cluster/fake_autoscale.yaml` (the same head/GPU-worker shape as aws.yaml and gcp.yaml)
with Ray's fake multi-node provider on this machine: a real Ray autoscaler, fake GPUs.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time

import pytest

from cluster_fixtures import FakeAutoscalingCluster, autoscaling_cluster  # noqa: F401

pytestmark = pytest.mark.slow

TASKS = 4
TASK_SECONDS = 4  # long enough that the first worker cannot finish all four alone
SCALE_DOWN_WAIT_S = 60  # idle_timeout_minutes is 0.2 (12 s); Ray then needs a few seconds

# Runs in its own process: it joins the fake cluster while the test session keeps its own Ray.
DRIVER = textwrap.dedent(f"""
    import json, time
    import ray

    def alive_gpu_nodes():
        return sorted(n["NodeID"] for n in ray.nodes()
                      if n["Alive"] and n["Resources"].get("GPU", 0) > 0)

    @ray.remote(num_gpus=1, num_cpus=1)
    def node_of_task():
        time.sleep({TASK_SECONDS})
        return ray.get_runtime_context().get_node_id()

    ray.init(log_to_driver=False)  # address from RAY_ADDRESS
    started = time.monotonic()
    task_nodes = ray.get([node_of_task.remote() for _ in range({TASKS})])
    tasks_s = time.monotonic() - started
    head = [n["NodeID"] for n in ray.nodes() if n["Alive"] and n["Resources"].get("GPU", 0) == 0]
    gpu_nodes_after_tasks = alive_gpu_nodes()
    idle_since = time.monotonic()
    while alive_gpu_nodes() and time.monotonic() - idle_since < {SCALE_DOWN_WAIT_S}:
        time.sleep(1)
    print(json.dumps({{"task_nodes": task_nodes, "tasks_s": tasks_s, "head_nodes": head,
                      "gpu_nodes_after_tasks": gpu_nodes_after_tasks,
                      "gpu_nodes_after_idle": alive_gpu_nodes(),
                      "scale_down_s": time.monotonic() - idle_since}}))
""")


def _drive(cluster: FakeAutoscalingCluster) -> dict:
    done = subprocess.run([sys.executable, "-c", DRIVER], env=cluster.driver_env(),
                          capture_output=True, text=True, timeout=150)
    assert done.returncode == 0, f"{done.stderr[-3000:]}\nautoscaler:\n{cluster.log_tail()}"
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_gpu_workers_scale_up_from_zero_and_back_down_when_idle(autoscaling_cluster):
    started = time.monotonic()
    report = _drive(autoscaling_cluster)
    context = f"{json.dumps(report, indent=1)}\nautoscaler:\n{autoscaling_cluster.log_tail()}"

    assert len(report["task_nodes"]) == TASKS
    assert not set(report["task_nodes"]) & set(report["head_nodes"]), "a GPU task ran on the head"
    assert len(set(report["task_nodes"])) == 2, f"expected both GPU workers to be used\n{context}"
    assert len(report["gpu_nodes_after_tasks"]) == 2, context  # scaled to max_workers, no further
    assert report["gpu_nodes_after_idle"] == [], f"idle GPU workers were not removed\n{context}"
    print(f"tasks {report['tasks_s']:.1f} s, scale-down {report['scale_down_s']:.1f} s, "
          f"driver {time.monotonic() - started:.1f} s")



# Watches the cluster while a sweep runs: the most GPU workers alive at once, then how long
# until they are all gone. Stops watching the scale-up when the file named by argv[1] exists.
WATCHER = textwrap.dedent(f"""
    import json, os, sys, time
    import ray

    def gpu_nodes():
        return sum(1 for n in ray.nodes() if n["Alive"] and n["Resources"].get("GPU", 0) > 0)

    ray.init(log_to_driver=False)
    most = 0
    while not os.path.exists(sys.argv[1]):
        most = max(most, gpu_nodes())
        time.sleep(0.5)
    idle_since = time.monotonic()
    while gpu_nodes() and time.monotonic() - idle_since < {SCALE_DOWN_WAIT_S}:
        time.sleep(1)
    print(json.dumps({{"most_gpu_nodes": most, "gpu_nodes_after_idle": gpu_nodes(),
                      "scale_down_s": time.monotonic() - idle_since}}))
""")


def _final_rows(results) -> set[tuple]:
    import pyarrow.dataset as ds

    table = ds.dataset(str(results), format="parquet").to_table().to_pylist()
    return {(r["trial_id"], r["eval_set"], r["n_images"], r["correct"]) for r in table if r["final"]}


def test_sweep_scales_the_cluster_and_matches_a_fixed_cluster(autoscaling_cluster, ray_cluster,
                                                               fake_data, tmp_path):
    from ribray.engine import run_sweep
    from ribray.spec import parse_spec

    from conftest import tiny_spec, write_spec

    # Retries as on a real cloud cluster (the spec default is 3): the autoscaler may remove a
    # node it sees idle just as Tune places a trial there ("the actor's node was terminated
    # expectedly"), exactly like a spot preemption; that trial must be retried, not lost.
    spec = tiny_spec(tmp_path / "auto", fake_data, methods={"ft": {}, "lp": {}},
                     resources={"gpu": 1, "cpu": 1}, retries=3)
    path = write_spec(tmp_path / "spec.yaml", spec)
    stop = tmp_path / "sweep-finished"
    env = autoscaling_cluster.driver_env()
    watcher = subprocess.Popen([sys.executable, "-c", WATCHER, str(stop)], env=env,
                               stdout=subprocess.PIPE, text=True)
    sweep = subprocess.run([sys.executable, "-m", "ribray", "sweep", str(path), "--address",
                            autoscaling_cluster.address], env=env, capture_output=True, text=True,
                           timeout=400)
    stop.write_text("done")
    watched = json.loads(watcher.communicate(timeout=120)[0].strip().splitlines()[-1])
    context = f"{sweep.stdout[-3000:]}\n{sweep.stderr[-2000:]}\nautoscaler:\n{autoscaling_cluster.log_tail()}"
    assert sweep.returncode == 0, context
    # 0 -> max_workers; the autoscaler may launch one over the cap for a moment and then
    # remove it itself ("Removing 1 nodes ... (max_workers_per_type)"): a transient of Ray's
    assert watched["most_gpu_nodes"] in (2, 3), f"{watched}\n{context}"
    assert watched["gpu_nodes_after_idle"] == 0, f"{watched}\n{context}"  # back to the head alone
    fixed = parse_spec(tiny_spec(tmp_path / "fixed", fake_data, methods={"ft": {}, "lp": {}}))
    assert run_sweep(fixed, max_concurrent=2).complete
    assert _final_rows(tmp_path / "auto" / "runs" / "t" / "results") == \
        _final_rows(tmp_path / "fixed" / "runs" / "t" / "results")
