"""Hostile input, case by case: every bad spec and command misuse gets exit code 1 (or 2 for
click's usage errors), a message with the words that say what to fix, no traceback, no secret,
and nothing written or run (no sweep folder, no report). One row per case."""

from __future__ import annotations

import io
import pickle
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml
from click.testing import CliRunner

from ribray.cli import main

from conftest import tiny_spec

SECRET = "Sup3rSecretValue"


@dataclass
class Case:
    """`spec` changes the tiny spec (a dict of top-level keys, or a function of the spec text);
    `args` is the command, with SPEC, DATA, TMP, RESULTS replaced; `setup(tmp)` makes files."""

    name: str
    words: list[str]
    args: list[str] = field(default_factory=lambda: ["sweep", "SPEC"])
    spec: dict | object = field(default_factory=dict)
    setup: object = None
    code: int = 1
    fixtures: tuple[str, ...] = ()


def _text(change):
    """A spec change made on the YAML text itself (what a dict cannot express)."""
    return change


def _alias_bomb(text: str) -> str:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 9)]
    return "\n".join(lines) + "\n" + text


class _Exploit:
    """A pickle that would run a command when unpickled without weights_only."""

    def __reduce__(self):
        import os

        return (os.system, ("touch /tmp/ribray-pwned",))


def _malicious_checkpoint(tmp: Path) -> None:
    (tmp / "evil.pt").write_bytes(pickle.dumps({"weight": _Exploit()}))


def _not_safetensors(tmp: Path) -> None:
    (tmp / "weights.safetensors").write_bytes(b"PK\x03\x04 this is a zip, not safetensors")


def _foreign_parquet(tmp: Path) -> None:
    (tmp / "results").mkdir()
    pq.write_table(pa.table({"city": ["Paris"], "population": [2.1]}), tmp / "results" / "cities.parquet")


def _truncated_parquet(tmp: Path) -> None:
    (tmp / "results").mkdir()
    whole = io.BytesIO()
    pq.write_table(pa.table({"trial_id": ["t"], "kind": ["finetune"]}), whole)
    (tmp / "results" / "0123456789ab.parquet").write_bytes(whole.getvalue()[: len(whole.getvalue()) // 2])


def _bad_throughput(tmp: Path) -> None:
    (tmp / "rates.json").write_text('{"device": "H200", "default": {"train": 100,')


def _a_file(tmp: Path) -> None:
    (tmp / "a-file").write_text("not a folder")


CASES = [
    # The spec's values
    Case("duplicate downstream", ["downstream.1", "imagenet_r is listed twice"],
         spec={"downstream": ["imagenet_r", "imagenet_r"]}),
    Case("duplicate seeds", ["seeds", "seed 0 is listed twice"], spec={"seeds": [0, 0]}),
    Case("boolean seed", ["seeds.0", "valid integer"], spec={"seeds": [True]}),
    Case("empty eval_sets", ["eval_sets", "an empty list evaluates nothing"], spec={"eval_sets": []}),
    Case("infinite lr", ["train.lr", "finite number"], spec=_text(lambda t: t.replace("lr: 0.01", "lr: .inf"))),
    Case("nan alpha", ["interpolations.wise_ft.alphas.0", "finite number"],
         spec={"interpolations": {"wise_ft": {"of": "ft", "alphas": [float("nan")]}}}),
    Case("epochs 1e9", ["train.epochs", "YAML reads 1e9 as text", "1.0e9"],
         spec=_text(lambda t: t.replace("epochs: 1", "epochs: 1e9"))),
    Case("unknown data.folders key", ["data.folders.imagenet_skech", "did you mean 'imagenet_sketch'"],
         spec=_text(lambda t: t.replace("data:\n", "data:\n  folders: {imagenet_skech: /x}\n"))),
    Case("unknown method", ["methods.fft", "did you mean 'ft'"], spec={"methods": {"fft": {}}}),
    Case("unknown key", ["train.lrr", "did you mean 'train.lr'"],
         spec=_text(lambda t: t.replace("lr: 0.01", "lrr: 0.01"))),
    Case("unknown dataset", ["downstream.0", "did you mean 'imagenet_sketch'"], spec={"downstream": ["imagenet_skech"]}),
    Case("several problems at once", ["downstream.1", "methods.fft", "train.epochs"],
         spec=_text(lambda t: t.replace("epochs: 1", "epochs: 0").replace("- imagenet_sketch", "- imagenet_r")
                    .replace("ft: {}", "fft: {}"))),
    # The spec file
    Case("duplicate YAML key", ["the key 'seeds' is given twice", "lines"],
         spec=_text(lambda t: t + "seeds: [1]\nseeds: [2]\n")),
    Case("YAML syntax error", ["YAML syntax error at line"], spec=_text(lambda t: t + "models: [tiny_vit\n")),
    Case("alias bomb", ["anchors and aliases expand to", "the limit is 100,000"], spec=_text(_alias_bomb)),
    Case("oversized spec", ["MiB is not a spec"], spec=_text(lambda t: t + "#" + "x" * (2 << 20) + "\n")),
    Case("not UTF-8", ["not UTF-8 text", "byte 0xff"], spec=_text(lambda t: t + "# caf\xff\n")),
    Case("not a mapping", ["expected a mapping of keys"], spec=_text(lambda t: "- just\n- a list\n")),
    # Secrets
    Case("credentials in the storage URI", ["storage", "holds credentials", "AWS_SECRET_ACCESS_KEY"],
         spec={"storage": f"s3://AKIAEXAMPLE:{SECRET}@bucket/runs"}),
    Case("secret option in the storage URI", ["storage", "holds credentials"],
         spec={"storage": f"s3://bucket/runs?access_key=AKIA&secret_key={SECRET}"}),
    # Weights
    Case("checkpoint that is a malicious pickle", ["evil.pt", "cannot be read", "weights_only"],
         spec=_text(lambda t: t.replace("- tiny_vit", "- {name: tiny_vit, checkpoint: TMP/evil.pt}")),
         setup=_malicious_checkpoint),
    Case("checkpoint that is not safetensors", ["weights.safetensors", "cannot be read as safetensors"],
         spec=_text(lambda t: t.replace("- tiny_vit", "- {name: tiny_vit, checkpoint: TMP/weights.safetensors}")),
         setup=_not_safetensors),
    Case("missing checkpoint", ["checkpoint file not found", "nowhere.pt"],
         spec=_text(lambda t: t.replace("- tiny_vit", "- {name: tiny_vit, checkpoint: TMP/nowhere.pt}"))),
    # What plan checks before listing trials
    Case("plan: unknown model", ["models.0", "unknown model"], args=["plan", "SPEC"], spec={"models": ["tiny_vitt"]}),
    Case("plan: WiSE-FT of a method not in the sweep", ["interpolations.wise_ft.of", "'lp' is not in the sweep"],
         args=["plan", "SPEC"], spec={"interpolations": {"wise_ft": {"of": "lp"}}}),
    Case("plan: bad throughput JSON", ["throughput file", "rates.json", "JSONDecodeError"],
         args=["plan", "SPEC", "--throughput", "TMP/rates.json"], setup=_bad_throughput),
    # Runs
    Case("resume without a previous run", ["--resume: no previous sweep"], args=["sweep", "SPEC", "--resume"]),
    Case("more GPUs than the machine has", ["asks for 3 GPU", "this machine's Ray has 2 GPU"],
         spec={"resources": {"gpu": 3, "cpu": 1}}, fixtures=("ray_cluster",)),
    # Results and data
    Case("report on Parquet that is not ribray's", ["cities.parquet", "not ribray results", "no column trial_id"],
         args=["report", "TMP/results"], setup=_foreign_parquet),
    Case("report on a truncated shard", ["0123456789ab.parquet", "not a complete Parquet file"],
         args=["report", "TMP/results"], setup=_truncated_parquet),
    Case("mlflow sync on a truncated shard", ["0123456789ab.parquet", "not a complete Parquet file"],
         args=["mlflow", "sync", "TMP", "--tracking-uri", "sqlite:///TMP/m.db"], setup=_truncated_parquet),
    Case("data fake onto a file", ["cannot create the folder", "a-file"],
         args=["data", "fake", "TMP/a-file", "--datasets", "imagenet_r"], setup=_a_file),
    Case("data check of a missing root", ["does not exist"], args=["data", "check", "TMP/nowhere"]),
    Case("validate of a missing spec", ["spec file not found"], args=["validate", "TMP/nowhere.yaml"]),
    Case("unknown command", ["No such command 'sweeep'"], args=["sweeep", "SPEC"], code=2),
    # issue 21: secrets with reserved characters, a cluster address that does not answer
    Case("storage password holding / # ? and a space", ["storage", "holds credentials", "written %40"],
         spec={"storage": f"s3://AKIAEXAMPLE:a/b#{SECRET}?c d@bucket/runs"}),
    Case("cluster address where nothing answers", ["--address 127.0.0.1:1", "no Ray cluster answers", "after 0.5 s",
                                                   "ray_current_cluster", "--address auto", "--connect-timeout"],
         args=["sweep", "SPEC", "--address", "127.0.0.1:1", "--connect-timeout", "0.5"]),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_input_is_refused_clearly_before_anything_runs(case, fake_data, tmp_path, request):
    for fixture in case.fixtures:
        request.getfixturevalue(fixture)
    if case.setup:
        case.setup(tmp_path)
    spec = tiny_spec(tmp_path, fake_data)
    if isinstance(case.spec, dict):
        spec |= case.spec
        text = yaml.safe_dump(spec)
    else:
        text = case.spec(yaml.safe_dump(spec)).replace("TMP", str(tmp_path))
    spec_path = tmp_path / "spec.yaml"
    spec_path.write_bytes(text.encode("utf-8", "surrogateescape").replace("\xff".encode(), b"\xff"))
    args = [a.replace("SPEC", str(spec_path)).replace("TMP", str(tmp_path)) for a in case.args]

    result = CliRunner().invoke(main, args)

    output = result.output + (result.stderr if result.stderr_bytes is not None else "")
    assert result.exit_code == case.code, output
    assert isinstance(result.exception, SystemExit), repr(result.exception)  # not an uncaught error
    for words in case.words:
        assert words in output, output
    assert "Traceback" not in output and SECRET not in output
    assert not (tmp_path / "runs").exists(), "a refused sweep writes nothing"
    assert not (tmp_path / "report").exists()
    assert not Path("/tmp/ribray-pwned").exists()
