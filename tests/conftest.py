"""Shared fixtures: one local Ray with two fake GPUs for the whole session, generated data."""

from __future__ import annotations

import os
import tempfile

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
os.environ.setdefault("TUNE_DISABLE_AUTO_CALLBACK_LOGGERS", "1")
# ribray's per-user cache (timm's names and model sizes): this session's own, never the user's
os.environ["RIBRAY_CACHE_DIR"] = tempfile.mkdtemp(prefix="ribray-test-cache-")

from pathlib import Path  # noqa: E402

import pytest  # noqa: E402
import yaml  # noqa: E402

FAKE_SETS = ["imagenet_val", "imagenet_r", "imagenet_sketch"]


@pytest.fixture(scope="session")
def ray_cluster():
    """One local Ray for every test that needs it: 2 CPUs, 2 fake GPUs, on 127.0.0.1."""
    import ray

    ray.init(address="local", num_cpus=2, num_gpus=2, include_dashboard=False,
             _node_ip_address="127.0.0.1", log_to_driver=False)
    yield ray
    ray.shutdown()


@pytest.fixture(scope="session")
def fake_data(tmp_path_factory) -> Path:
    """Small generated datasets in the real on-disk layouts (4 classes, 6 images each)."""
    from ribray.data import get_dataset

    root = tmp_path_factory.mktemp("data")
    for name in FAKE_SETS:
        entry = get_dataset(name)
        entry.write_fake(entry.path(root), per_class=6, classes=4, seed=1)
    return root


def tiny_spec(root_dir: Path, data_root: Path, **overrides) -> dict:
    """A spec for a seconds-long sweep on the tiny model; overrides replace top-level keys."""
    spec = {
        "name": "t", "storage": str(root_dir / "runs"), "data": {"root": str(data_root)},
        "models": ["tiny_vit"], "downstream": ["imagenet_r", "imagenet_sketch"],
        "methods": {"ft": {}},
        "interpolations": {"wise_ft": {"of": "ft", "alphas": [0.5]}},
        "train": {"epochs": 1, "batch_size": 8, "lr": 0.01, "warmup_steps": 1, "workers": 0},
        "eval": {"batch_size": 64, "workers": 0},
        "resources": {"gpu": 1, "cpu": 1},
        "retries": 0,
    }
    spec.update(overrides)
    return spec


def write_spec(path: Path, spec: dict) -> Path:
    path.write_text(yaml.safe_dump(spec))
    return path


@pytest.fixture
def spec_file(tmp_path, fake_data) -> Path:
    """The tiny spec fine-tuning on imagenet_r, as a file: pretrained, ft and its WiSE-FT."""
    return write_spec(tmp_path / "spec.yaml", tiny_spec(tmp_path, fake_data, downstream=["imagenet_r"]))


EXAMPLE_PLUGIN = Path(__file__).resolve().parent.parent / "examples" / "ribray-example-plugin"
BRING_YOUR_OWN = Path(__file__).resolve().parent.parent / "examples" / "bring-your-own"


@pytest.fixture
def no_plugins():
    """Leaves this process with ribray's own entries only, whatever the test loaded."""
    from ribray.plugins import activate

    yield
    activate([])


def write_plugin(path: Path, text: str) -> Path:
    """A plugin file for a test (dedented)."""
    import textwrap

    path.write_text(textwrap.dedent(text))
    return path


def ribray_cli(*args):
    """`ribray ARGS...` run in this process (arguments as text), as a user's shell would."""
    from click.testing import CliRunner

    from ribray.cli import main

    return CliRunner().invoke(main, [str(a) for a in args], prog_name="ribray")


def report_cli(*args):
    """`ribray report ARGS...` run in this process: the command alone, as its tests use it."""
    from click.testing import CliRunner

    from ribray.cli.report import report

    return CliRunner().invoke(report, [str(a) for a in args], prog_name="ribray report")


def sweep_rows(spec) -> list[dict]:
    """Every row the spec's sweep wrote: its results/ folder read as one Parquet dataset."""
    import pyarrow.dataset as ds

    from ribray.results import sweep_dir

    return ds.dataset(f"{sweep_dir(spec).path}/results", format="parquet").to_table().to_pylist()


def loaded_after(code: str, modules: tuple[str, ...]) -> list[str]:
    """Which of `modules` a fresh interpreter has imported after running `code`."""
    import subprocess
    import sys

    probe = f"import sys\n{code}\nprint(sorted(m for m in {modules!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return eval(out.stdout.strip().splitlines()[-1])
