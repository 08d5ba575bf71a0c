"""The files in cluster/ load the way `ray up`, Ray's autoscaler and KubeRay read them, offline,
and keep the promises cluster/README.md makes (spot GPU workers from zero, no trials on the
head, no credentials, nodes that terminate instead of stopping)."""

from __future__ import annotations

import copy
import re
from pathlib import Path

import jsonschema
import pytest
import ray
import yaml
from ray.autoscaler._private.docker import validate_docker_config
from ray.autoscaler._private.util import (
    fill_node_type_min_max_workers,
    merge_setup_commands,
    prepare_config,
    validate_config,
)

CLUSTER = Path(__file__).resolve().parents[2] / "cluster"
CLOUD_CONFIGS = ["aws.yaml", "gcp.yaml"]
LAUNCHER_CONFIGS = [*CLOUD_CONFIGS, "fake_autoscale.yaml"]
IMAGE = f"rayproject/ray:{ray.__version__}-py311-gpu"


def load(name: str) -> dict:
    return yaml.safe_load((CLUSTER / name).read_text())


def head_type(config: dict) -> dict:
    return config["available_node_types"][config["head_node_type"]]


def gpu_worker_types(config: dict) -> dict[str, dict]:
    return {name: node for name, node in config["available_node_types"].items()
            if node["resources"].get("GPU", 0) > 0}


def fake_prepare_config(config: dict) -> dict:
    """prepare_config without its defaults file, which Ray's wheel lacks for fake_multinode."""
    prepared = copy.deepcopy(config)
    merge_setup_commands(prepared)
    validate_docker_config(prepared)
    fill_node_type_min_max_workers(prepared)
    return prepared


# --- what `ray up` and the autoscaler accept ---------------------------------------------

@pytest.mark.parametrize("name", CLOUD_CONFIGS)
def test_cloud_config_passes_ray_up_validation(name):
    validate_config(prepare_config(load(name)))  # what `ray up` runs before touching the cloud


def test_fake_config_passes_the_autoscalers_validation():
    config = load("fake_autoscale.yaml")
    validate_config(config)  # the autoscaler validates the file as is (monitor.py)
    validate_config(fake_prepare_config(config))
    assert config["head_node_type"] == "ray.head.default"  # the only name the fake provider knows


def test_validation_rejects_a_misspelt_key_and_a_missing_head_type():
    config = load("aws.yaml")
    config["available_node_types"]["ray.worker.gpu"]["min_worker"] = 0
    with pytest.raises(jsonschema.ValidationError, match="min_worker"):
        validate_config(prepare_config(config))
    config = load("gcp.yaml")
    config["head_node_type"] = "ray_head_default"
    with pytest.raises(ValueError, match="head_node_type"):
        validate_config(prepare_config(config))


def test_aws_node_configs_are_valid_ec2_run_instances_requests():
    botocore_session = pytest.importorskip("botocore.session")
    from botocore.validate import ParamValidator

    ec2 = botocore_session.get_session().get_service_model("ec2")
    request = ec2.operation_model("RunInstances").input_shape
    for name, node in load("aws.yaml")["available_node_types"].items():
        report = ParamValidator().validate({**node["node_config"], "MinCount": 1, "MaxCount": 1}, request)
        assert not report.has_errors(), f"{name}: {report.generate_report()}"


# --- the promises -------------------------------------------------------------------------

@pytest.mark.parametrize("name", LAUNCHER_CONFIGS)
def test_gpu_workers_scale_from_zero_and_trials_stay_off_the_head(name):
    config = load(name)
    workers = gpu_worker_types(config)
    assert workers, "no node type advertises a GPU"
    for node in workers.values():
        assert node["min_workers"] == 0 and node["max_workers"] >= 2
        assert node["resources"]["GPU"] == 1  # one trial per node; single-GPU instances
    assert head_type(config)["resources"].get("GPU") == 0
    assert config["idle_timeout_minutes"] > 0


@pytest.mark.parametrize("name", CLOUD_CONFIGS)
def test_cloud_head_runs_no_trials_and_is_on_demand(name):
    head = head_type(load(name))
    assert head["resources"] == {"CPU": 0, "GPU": 0}
    assert "InstanceMarketOptions" not in head["node_config"]
    assert "scheduling" not in head["node_config"]


def test_aws_workers_are_spot_and_terminated_when_idle():
    config = load("aws.yaml")
    assert config["provider"]["cache_stopped_nodes"] is False
    for node in gpu_worker_types(config).values():
        assert node["node_config"]["InstanceMarketOptions"]["MarketType"] == "spot"
        assert node["node_config"]["IamInstanceProfile"]  # bucket access without keys


def test_gcp_workers_are_spot_vms_with_a_service_account():
    config = load("gcp.yaml")
    project = config["provider"]["project_id"]
    for node in gpu_worker_types(config).values():
        scheduling = node["node_config"]["scheduling"]
        # A mapping, as the Compute API wants (Ray's own examples once used a list).
        assert scheduling["provisioningModel"] == "SPOT" or scheduling.get("preemptible") is True
        assert scheduling["onHostMaintenance"] == "TERMINATE"  # GPUs cannot live-migrate
        accounts = node["node_config"]["serviceAccounts"]
        assert all(account["email"].endswith(f"@{project}.iam.gserviceaccount.com") for account in accounts)


@pytest.mark.parametrize("name", CLOUD_CONFIGS)
def test_cloud_nodes_run_the_ray_gpu_image_and_install_ribray(name):
    config = load(name)
    assert config["docker"]["image"] == IMAGE  # the Ray of this checkout; ray-ml is discontinued
    assert config["file_mounts"] == {"/home/ray/ribray-dist": "./dist"}
    install = " ".join(config["setup_commands"])
    assert "/home/ray/ribray-dist/ribray-*.whl" in install and "constraints.txt" in install
    head_start = " ".join(config["head_start_ray_commands"])
    assert "--dashboard-host=127.0.0.1" in head_start  # reached through `ray dashboard` only


# --- no credentials -----------------------------------------------------------------------

SECRET_PATTERNS = {
    "AWS access key id": r"\b(AKIA|ASIA)[0-9A-Z]{16}\b",
    "AWS secret key setting": r"(?i)aws_secret_access_key|secretaccesskey",
    "private key": r"-----BEGIN [A-Z ]*PRIVATE KEY-----",
    "GCP key file": r'"type":\s*"service_account"|private_key_id',
    "inline credentials": r"(?i)\b(gcp_credentials|ssh_private_key|password)\s*:",
}


def secrets_in(text: str) -> list[str]:
    return [what for what, pattern in SECRET_PATTERNS.items() if re.search(pattern, text)]


@pytest.mark.parametrize("name", [*LAUNCHER_CONFIGS, "kuberay.yaml"])
def test_cluster_files_hold_no_credentials(name):
    text = "\n".join(line for line in (CLUSTER / name).read_text().splitlines()
                     if not line.lstrip().startswith("#"))  # comments may explain the options
    assert secrets_in(text) == []


def test_the_credential_scan_finds_planted_secrets():
    planted = ("auth:\n  ssh_private_key: ~/.ssh/id_rsa\nkey: AKIAABCDEFGHIJKLMNOP\n"
               '{"type": "service_account"}\n-----BEGIN RSA PRIVATE KEY-----\n')
    assert set(secrets_in(planted)) == {"AWS access key id", "private key", "GCP key file",
                                        "inline credentials"}


# --- KubeRay ------------------------------------------------------------------------------

# A subset of the KubeRay RayCluster CRD (ray.io/v1), written from its field reference: the
# structure and types the API server enforces. Unknown keys are rejected here because the API
# server would silently prune them.
STRING_MAP = {"type": "object", "additionalProperties": {"type": "string"}}
QUANTITY = {"oneOf": [{"type": "integer", "minimum": 0},
                      {"type": "string", "pattern": r"^[0-9]+(\.[0-9]+)?(m|k|Ki|M|Mi|G|Gi|T|Ti)?$"}]}
RESOURCES = {"type": "object", "additionalProperties": False, "properties": {
    "requests": {"type": "object", "additionalProperties": QUANTITY},
    "limits": {"type": "object", "additionalProperties": QUANTITY}}}
CONTAINER = {"type": "object", "required": ["name", "image"], "properties": {
    "name": {"type": "string"}, "image": {"type": "string"}, "resources": RESOURCES,
    "command": {"type": "array", "items": {"type": "string"}},
    "args": {"type": "array", "items": {"type": "string"}}}}
POD_TEMPLATE = {"type": "object", "required": ["spec"], "properties": {"spec": {
    "type": "object", "required": ["containers"],
    "properties": {"containers": {"type": "array", "minItems": 1, "items": CONTAINER}}}}}
HEAD_GROUP = {"type": "object", "required": ["template"], "additionalProperties": False,
              "properties": {"serviceType": {"enum": ["ClusterIP", "NodePort", "LoadBalancer"]},
                             "rayStartParams": STRING_MAP, "template": POD_TEMPLATE,
                             "headService": {"type": "object"}, "enableIngress": {"type": "boolean"}}}
WORKER_GROUP = {"type": "object", "required": ["groupName", "template"], "additionalProperties": False,
                "properties": {"groupName": {"type": "string"}, "rayStartParams": STRING_MAP,
                               "replicas": {"type": "integer", "minimum": 0},
                               "minReplicas": {"type": "integer", "minimum": 0},
                               "maxReplicas": {"type": "integer", "minimum": 0},
                               "numOfHosts": {"type": "integer", "minimum": 1},
                               "idleTimeoutSeconds": {"type": "integer", "minimum": 0},
                               "suspend": {"type": "boolean"}, "scaleStrategy": {"type": "object"},
                               "template": POD_TEMPLATE}}
AUTOSCALER_OPTIONS = {"type": "object", "additionalProperties": False, "properties": {
    "upscalingMode": {"enum": ["Default", "Aggressive", "Conservative"]},
    "idleTimeoutSeconds": {"type": "integer", "minimum": 0}, "resources": RESOURCES,
    "image": {"type": "string"}, "imagePullPolicy": {"type": "string"}, "env": {"type": "array"},
    "envFrom": {"type": "array"}, "volumeMounts": {"type": "array"},
    "securityContext": {"type": "object"}, "version": {"enum": ["v1", "v2"]}}}
RAY_CLUSTER_SCHEMA = {
    "type": "object", "required": ["apiVersion", "kind", "metadata", "spec"],
    "properties": {
        "apiVersion": {"const": "ray.io/v1"}, "kind": {"const": "RayCluster"},
        "metadata": {"type": "object", "required": ["name"], "properties": {
            "name": {"type": "string", "pattern": r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"},
            "annotations": STRING_MAP}},
        "spec": {"type": "object", "required": ["headGroupSpec"], "additionalProperties": False,
                 "properties": {"rayVersion": {"type": "string"},
                                "enableInTreeAutoscaling": {"type": "boolean"},
                                "autoscalerOptions": AUTOSCALER_OPTIONS,
                                "headGroupSpec": HEAD_GROUP,
                                "workerGroupSpecs": {"type": "array", "items": WORKER_GROUP},
                                "suspend": {"type": "boolean"}}}}}


def kuberay_problems(cluster: dict) -> list[str]:
    """What KubeRay or the API server would reject, or what would not do what we promise."""
    problems = [f"{'.'.join(map(str, e.absolute_path))}: {e.message}"
                for e in jsonschema.Draft7Validator(RAY_CLUSTER_SCHEMA).iter_errors(cluster)]
    if problems:
        return problems
    spec = cluster["spec"]
    if spec.get("enableInTreeAutoscaling") is not True:
        problems.append("enableInTreeAutoscaling is not true: the GPU group never scales")
    head = spec["headGroupSpec"]
    if head.get("rayStartParams", {}).get("num-gpus") != "0":
        problems.append("the head advertises GPUs: trials could run on it")
    problems += _pod_problems("head", head["template"]["spec"], cluster, spec.get("rayVersion"))
    for group in spec.get("workerGroupSpecs", []):
        problems += _worker_group_problems(group, cluster, spec.get("rayVersion"))
    return problems


def _worker_group_problems(group: dict, cluster: dict, ray_version: str | None) -> list[str]:
    name, problems = group["groupName"], []
    low, high = group.get("minReplicas", 0), group.get("maxReplicas", 2**31 - 1)
    if not low <= group.get("replicas", low) <= high:
        problems.append(f"{name}: replicas must lie in [minReplicas, maxReplicas]")
    if low != 0:
        problems.append(f"{name}: minReplicas is {low}: idle GPUs would keep billing")
    problems += _pod_problems(name, group["template"]["spec"], cluster, ray_version)
    return problems


def _pod_problems(name: str, pod: dict, cluster: dict, ray_version: str | None) -> list[str]:
    problems = []
    volumes = {volume["name"] for volume in pod.get("volumes", [])}
    overwrite = cluster["metadata"].get("annotations", {}).get("ray.io/overwrite-container-cmd") == "true"
    for container in pod["containers"]:
        resources = container.get("resources", {})
        gpus = [resources.get(kind, {}).get("nvidia.com/gpu") for kind in ("requests", "limits")]
        if gpus[0] is not None and str(gpus[0]) != str(gpus[1]):
            problems.append(f"{name}: GPU requests and limits must be equal")
        if ray_version and not container["image"].startswith(f"rayproject/ray:{ray_version}-"):
            problems.append(f"{name}: image {container['image']} is not Ray {ray_version}")
        if overwrite and "$KUBERAY_GEN_RAY_START_CMD" not in " ".join(container.get("args", [])):
            problems.append(f"{name}: the container command never runs KubeRay's `ray start`")
        for mount in container.get("volumeMounts", []):
            if mount["name"] not in volumes:
                problems.append(f"{name}: volumeMount {mount['name']} has no volume")
    return problems


def gpu_limits(pod: dict) -> list:
    return [c.get("resources", {}).get("limits", {}).get("nvidia.com/gpu") for c in pod["containers"]]


def test_kuberay_cluster_matches_the_crd_and_our_promises():
    cluster = load("kuberay.yaml")
    assert kuberay_problems(cluster) == []
    spec = cluster["spec"]
    assert spec["rayVersion"] == ray.__version__
    assert spec["headGroupSpec"]["rayStartParams"]["num-cpus"] == "0"
    assert gpu_limits(spec["headGroupSpec"]["template"]["spec"]) == [None]
    (gpu_group,) = spec["workerGroupSpecs"]
    assert gpu_group["minReplicas"] == 0 and gpu_group["maxReplicas"] >= 2
    assert gpu_limits(gpu_group["template"]["spec"]) == ["1"]
    for container in [*spec["headGroupSpec"]["template"]["spec"]["containers"],
                      *gpu_group["template"]["spec"]["containers"]]:
        assert container["image"] == IMAGE
        # ribray's install must keep the image's Ray: mixed Ray versions cannot form a cluster
        assert f'"ray[default,tune]=={ray.__version__}"' in " ".join(container["args"])


@pytest.mark.parametrize("break_it, problem", [
    (lambda c: c["spec"]["headGroupSpec"]["rayStartParams"].update({"num-cpus": 0}), "is not of type 'string'"),
    (lambda c: c["spec"]["workerGroupSpecs"][0].update(minReplicas=3, maxReplicas=2), "replicas must lie"),
    (lambda c: c["spec"]["workerGroupSpecs"][0].update(maxReplica=4), "Additional properties"),
    (lambda c: c["spec"].update(enableInTreeAutoscaling=False), "never scales"),
    (lambda c: c["spec"]["workerGroupSpecs"][0]["template"]["spec"]["containers"][0]
     ["resources"]["requests"].update({"nvidia.com/gpu": "2"}), "must be equal"),
    (lambda c: c["spec"]["headGroupSpec"]["template"]["spec"]["containers"][0].update(args=["ray start"]),
     "never runs KubeRay"),
])
def test_kuberay_check_catches_broken_clusters(break_it, problem):
    cluster = load("kuberay.yaml")
    break_it(cluster)
    assert any(problem in found for found in kuberay_problems(cluster)), kuberay_problems(cluster)
