"""Hostile input, case by case: every bad spec and command misuse gets exit code 1 (or 2 for
click's usage errors), a message with the words that say what to fix, no traceback, no secret,
and nothing written, deleted or run: the test folder's tree (every path and its bytes) is the
same after the command as before. One row per case."""

from __future__ import annotations

import contextlib
import io
import os
import pickle
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml
from click.testing import CliRunner

from ribray.cli import main
from ribray.results import SweepLayout, write_shard
from ribray.results.lock import sweep_lock
from ribray.storage import Location

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
    held: tuple[str, str] | None = None  # (folder under TMP, command): its sweep.lock is held meanwhile
    absent: tuple[str, ...] = ()  # words the output must not hold (unsafe advice)
    env: dict[str, str] = field(default_factory=dict)


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


def _mark(folder: Path) -> Path:
    """A sweep folder as `ribray sweep` makes it: with its marker."""
    SweepLayout(Location(str(folder))).mark(folder.name, folder.name, "spec-hash")
    return folder


def _foreign_parquet(tmp: Path) -> None:
    _mark(tmp)
    (tmp / "results").mkdir()
    pq.write_table(pa.table({"city": ["Paris"], "population": [2.1]}), tmp / "results" / "cities.parquet")


def _truncated_parquet(tmp: Path) -> None:
    _mark(tmp)
    (tmp / "results").mkdir()
    whole = io.BytesIO()
    pq.write_table(pa.table({"trial_id": ["t"], "kind": ["finetune"]}), whole)
    (tmp / "results" / "0123456789ab.parquet").write_bytes(whole.getvalue()[: len(whole.getvalue()) // 2])


def _bad_throughput(tmp: Path) -> None:
    (tmp / "rates.json").write_text('{"device": "H200", "default": {"train": 100,')


def _a_file(tmp: Path) -> None:
    (tmp / "a-file").write_text("not a folder")


def _finished_sweep(folder: Path) -> None:
    """A finished sweep's folder: marker, a shard, final weights, an MLflow store, a finished
    trial's checkpoint and a scratch folder (what `ribray prune` would delete)."""
    _mark(folder)
    trial_id = "0123456789ab"
    write_shard(Location(str(folder / "results")), trial_id, [{"trial_id": trial_id, "sweep": folder.name}])
    (folder / "weights").mkdir()
    (folder / "weights" / "k.safetensors").write_bytes(b"w" * 100)
    (folder / "mlflow.db").write_bytes(b"SQLite format 3\x00")
    checkpoint = folder / "tune" / "run-1" / f"finetune-{trial_id}-a" / "checkpoint_000001"
    checkpoint.mkdir(parents=True)
    (checkpoint / "trainer.pt").write_bytes(b"c" * 100)
    (folder / "scratch").mkdir()
    (folder / "scratch" / "planted.txt").write_text("keep me")


def _not_a_sweep_beside_scratch(tmp: Path) -> None:
    """A folder that is no sweep's, whose parent holds scratch/ (what a parent taken for the
    sweep would lose), and a results/ folder that is no sweep's either."""
    (tmp / "notasweep" / "results").mkdir(parents=True)
    (tmp / "notasweep" / "notes.txt").write_text("mine")
    (tmp / "scratch").mkdir()
    (tmp / "scratch" / "planted.txt").write_text("keep me")
    (tmp / "empty").mkdir()


def _two_sweeps_in_a_store(tmp: Path) -> None:
    _finished_sweep(tmp / "store" / "scratch")  # a finished sweep named scratch
    _finished_sweep(tmp / "store" / "smoke")


def _finished_sibling(tmp: Path) -> None:
    _finished_sweep(tmp / "store" / "scratch")  # beside store/smoke, a sweep that is starting


def _imagenet_r(tmp: Path) -> Path:
    """A small generated ImageNet-R at TMP/imagenet-r (the spec's data.folders points there)."""
    from ribray.data import get_dataset

    folder = tmp / "imagenet-r"
    get_dataset("imagenet_r").write_fake(folder, per_class=6, classes=4, seed=1)
    return folder / get_dataset("imagenet_r").wnids()[0]


def _link_loop(tmp: Path) -> None:
    (_imagenet_r(tmp) / "loop").symlink_to("loop")


def _link_out_of_the_set(tmp: Path) -> None:
    (tmp / "elsewhere").mkdir()
    (_imagenet_r(tmp) / "more").symlink_to(tmp / "elsewhere")


def _decompression_bomb(tmp: Path) -> None:
    import struct
    import zlib

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", 20_000, 20_000, 1, 0, 0, 0, 0)  # 400M pixels, in 60 bytes
    (_imagenet_r(tmp) / "bomb.png").write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
                                                + chunk(b"IDAT", zlib.compress(b"\0")) + chunk(b"IEND", b""))


def _legacy_checkpoint(tmp: Path) -> None:
    import torch

    torch.save(torch.nn.Linear(2, 2), tmp / "legacy.pt", _use_new_zipfile_serialization=False)  # a pickled module


def _a_shard(tmp: Path) -> None:
    """A sweep folder (TMP) holding one shard."""
    from ribray.results.store import write_shard
    from ribray.storage import Location

    _mark(tmp)
    write_shard(Location(str(tmp / "results")), "0123456789ab", [
        {"trial_id": "0123456789ab", "kind": "pretrained", "model": "tiny_vit", "method": "pretrained",
         "label": "tiny_vit/pretrained", "eval_set": "imagenet_r", "top1": 50.0, "final": True, "epoch": 0}])


def _fifo(tmp: Path) -> None:
    import os

    os.mkfifo(tmp / "spec.fifo")


_OWN_IMAGENET_R = _text(lambda t: t.replace("data:\n", "data:\n  folders: {imagenet_r: TMP/imagenet-r}\n"))
_CLOSED_S3 = "s3://bucket/t?endpoint_override=127.0.0.1:1&scheme=http"  # nothing listens on port 1
_S3_ENV = {"AWS_ACCESS_KEY_ID": "AKIAEXAMPLE", "AWS_SECRET_ACCESS_KEY": "example", "AWS_EC2_METADATA_DISABLED": "true"}


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
    Case("validate of a missing spec", ["spec file not found"], args=["validate", "TMP/nowhere.yaml"], code=2),
    Case("K shots per class above a downstream set's smallest class", [
        "train_subsets: shots_per_class=8 is more than imagenet_r has in its smallest class (6 images, class 0)",
        "use at most 6 shots per class there"], args=["validate", "SPEC"],
         spec={"train_subsets": [{"shots_per_class": 2}, {"shots_per_class": 8}]}),
    Case("K shots per class above a downstream set's smallest class, at sweep", [
        "shots_per_class=8 is more than imagenet_r has in its smallest class (6 images"],
         spec={"train_subsets": [{"shots_per_class": 8}]}),
    Case("unknown command", ["No such command 'sweeep'"], args=["sweeep", "SPEC"], code=2),
    # Targets and locks (issue 21, sections 2 and 7): never a folder outside the sweep, nothing while a sweep runs
    Case("prune of a folder that is no sweep's, its parent holding scratch/",
         ["notasweep is not a sweep folder", "ribray-sweep.json", "expected a spec file, a sweep folder"],
         args=["prune", "TMP/notasweep"], setup=_not_a_sweep_beside_scratch),
    Case("prune --dry-run of a folder that is no sweep's", ["notasweep is not a sweep folder"],
         args=["prune", "TMP/notasweep", "--dry-run"], setup=_not_a_sweep_beside_scratch),
    Case("prune of the results/ folder of a folder that is no sweep's", ["notasweep/results is not a sweep folder"],
         args=["prune", "TMP/notasweep/results"], setup=_not_a_sweep_beside_scratch),
    Case("mlflow sync of an empty folder that is no sweep's", ["empty is not a sweep folder"],
         args=["mlflow", "sync", "TMP/empty"], setup=_not_a_sweep_beside_scratch),
    Case("report of a folder that is no sweep's", ["notasweep is not a sweep folder"],
         args=["report", "TMP/notasweep"], setup=_not_a_sweep_beside_scratch),
    Case("ui of a folder that is no sweep's", ["notasweep is not a sweep folder"],
         args=["ui", "TMP/notasweep", "--port", "0"], setup=_not_a_sweep_beside_scratch),
    Case("status of a folder (it takes a spec)", ["Invalid value for 'SPEC'", "is a directory"],
         args=["status", "TMP/notasweep"], setup=_not_a_sweep_beside_scratch, code=2),
    Case("prune of the storage folder that holds sweeps", ["store is not a sweep folder",
                                                           "It holds the sweep folder(s) scratch, smoke"],
         args=["prune", "TMP/store"], setup=_two_sweeps_in_a_store),
    Case("prune of a folder inside a sweep", ["tune is not a sweep folder", "It is inside the sweep folder",
                                              "store/smoke: give that folder"],
         args=["prune", "TMP/store/smoke/tune"], setup=_two_sweeps_in_a_store),
    Case("prune of a spec whose sweep has not run", ["no sweep has run yet at", "runs/t", "it does not exist"],
         args=["prune", "SPEC"]),
    Case("report of a spec whose sweep has not run", ["no sweep has run yet at", "runs/t"], args=["report", "SPEC"]),
    Case("status of a spec whose sweep has not run", ["no sweep has run yet at", "runs/t"], args=["status", "SPEC"]),
    Case("mlflow sync of a spec whose sweep has not run", ["no sweep has run yet at"], args=["mlflow", "sync", "SPEC"]),
    Case("ui of a spec whose sweep has not run", ["no sweep has run yet at"], args=["ui", "SPEC", "--port", "0"]),
    Case("prune of a starting sweep (only its sweep.lock) beside a finished one",
         ["another sweep of this folder is running", "store/smoke/sweep.lock is held by pid", "Wait for it"],
         args=["prune", "TMP/store/smoke"], setup=_finished_sibling, held=("store/smoke", "ribray sweep")),
    Case("prune while a sweep of the folder runs", ["another sweep of this folder is running", "held by pid"],
         args=["prune", "TMP/store/smoke"], setup=_two_sweeps_in_a_store, held=("store/smoke", "ribray sweep")),
    Case("prune --dry-run while a sweep of the folder runs", ["another sweep of this folder is running"],
         args=["prune", "TMP/store/smoke", "--dry-run"], setup=_two_sweeps_in_a_store,
         held=("store/smoke", "ribray sweep")),
    Case("sweep while a prune of its folder runs", ["`ribray prune` is running on this sweep folder", "runs/t"],
         held=("runs/t", "ribray prune")),
    # issue 21 §6-7: tracebacks and vague failures, by class
    Case("validate: a symlink loop in a class folder", ["imagenet_r at", "loop is a symlink loop"],
         args=["validate", "SPEC"], spec=_OWN_IMAGENET_R, setup=_link_loop),
    Case("sweep: a symlink loop in a class folder", ["loop is a symlink loop"], spec=_OWN_IMAGENET_R, setup=_link_loop),
    Case("data check: a symlink loop in a class folder", ["loop is a symlink loop", "unusable: imagenet_r"],
         args=["data", "check", "TMP", "--datasets", "imagenet_r"], setup=_link_loop),
    Case("a symlink out of the dataset's folder", ["more links to the folder", "outside the dataset's folder"],
         args=["validate", "SPEC"], spec=_OWN_IMAGENET_R, setup=_link_out_of_the_set),
    Case("a decompression bomb among the images", ["unreadable image", "bomb.png", "decompression bomb"],
         args=["data", "check", "TMP", "--datasets", "imagenet_r", "--verify-images"], setup=_decompression_bomb),
    Case("a 300-character name", ["name: 300 characters; at most 100", "names the sweep's folder"],
         args=["validate", "SPEC"], spec={"name": "n" * 300}),
    Case("a 300-byte folder name in data.root", ["data.root", "is 300 bytes long", "refuse names over 255 bytes"],
         spec=_text(lambda t: t.replace("root: ", "root: /tmp/" + "d" * 300 + "/"))),
    Case("mlflow sync to a server that is down", ["cannot reach the MLflow tracking server at http://127.0.0.1:1",
                                                  "Connection refused"],
         args=["mlflow", "sync", "TMP", "--tracking-uri", "http://127.0.0.1:1"], setup=_a_shard),
    Case("report from an object store that is down", ["in bucket 'bucket'", "Could not connect to server"],
         args=["report", _CLOSED_S3], env=_S3_ENV),
    Case("a legacy-format checkpoint holding a module", ["legacy.pt", "holds a torch.nn.modules.linear.Linear object",
                                                         "ribray reads .safetensors files", "state_dict()"],
         spec=_text(lambda t: t.replace("- tiny_vit", "- {name: tiny_vit, checkpoint: TMP/legacy.pt}")),
         setup=_legacy_checkpoint, absent=("This file can still be loaded", "weights_only set to False")),
    Case("a FIFO as the spec", ["spec.fifo is not a regular file"], args=["validate", "TMP/spec.fifo"], setup=_fifo),
    Case("/dev/zero as the spec", ["/dev/zero is not a regular file"], args=["sweep", "/dev/zero"]),
    Case("a folder as the spec", ["is a directory"], args=["validate", "TMP"], code=2),
    # issue 21: secrets with reserved characters, a cluster address that does not answer
    Case("storage password holding / # ? and a space", ["storage", "holds credentials", "written %40"],
         spec={"storage": f"s3://AKIAEXAMPLE:a/b#{SECRET}?c d@bucket/runs"}),
    Case("cluster address where nothing answers", ["--address 127.0.0.1:1", "no Ray cluster answers", "after 0.5 s",
                                                   "ray_current_cluster", "--address auto", "--connect-timeout"],
         args=["sweep", "SPEC", "--address", "127.0.0.1:1", "--connect-timeout", "0.5"]),
]


def _tree(root: Path) -> dict[str, bytes | str | None]:
    """Every path under `root` with its bytes (the target for a link; None for a folder, and for a
    FIFO, which reading would block on)."""
    return {str(p.relative_to(root)): os.readlink(p) if p.is_symlink() else p.read_bytes() if p.is_file() else None
            for p in sorted(root.rglob("*"))}


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
    with contextlib.ExitStack() as running:
        if case.held:  # another ribray command of that folder runs meanwhile (this process holds its lock)
            folder, command = case.held
            running.enter_context(sweep_lock(Location(str(tmp_path / folder)), command=command))
        before = _tree(tmp_path)

        result = CliRunner().invoke(main, args, env=case.env or None)

        after = _tree(tmp_path)
    output = result.output + (result.stderr if result.stderr_bytes is not None else "")
    assert result.exit_code == case.code, output
    assert isinstance(result.exception, SystemExit), repr(result.exception)  # not an uncaught error
    for words in case.words:
        assert words in output, output
    assert "Traceback" not in output and SECRET not in output
    assert sorted(set(after) - set(before)) == [], "a refused command writes nothing"
    assert sorted(set(before) - set(after)) == [], "a refused command deletes nothing"
    assert [p for p in before if before[p] != after[p]] == [], "a refused command changes nothing"
    assert not [words for words in case.absent if words in output], output
    assert not Path("/tmp/ribray-pwned").exists()
