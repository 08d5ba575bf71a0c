"""Planted credentials never land anywhere a sweep writes: a sweep with a password in its MLflow
tracking URI (holding every reserved character and a space, unescaped) and cloud secrets in its
environment, then every byte it left (its output, Ray's log folder, the MLflow server's store and
artifacts, the Parquet, the Tune folder, the report) searched for them. Fast tests of the rule
that finds a URI's user-info follow."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from urllib.parse import quote

import pytest

from ribray.secrets import TRACKING_PASSWORD as PASSWORD_VARIABLE
from ribray.secrets import TRACKING_USERNAME, has_credentials, move_tracking_credentials, redact

from conftest import tiny_spec, write_spec
from faults.helpers import Driver, MlflowServer

RESERVED = ":/?#[]@!$&'()*+,;=% "  # RFC 3986's reserved characters, the percent sign and a space
PASSWORD_HEAD, PASSWORD_TAIL = "TrackPw-3f9c1e", "TrackTail-8a4d"  # a part leaked alone is found too
TRACKING_PASSWORD = f"{PASSWORD_HEAD}{RESERVED}{PASSWORD_TAIL}"  # unescaped: the URI is malformed, as users write it
AWS_SECRET = "AwsSecret-7d2b8a"
OTHER_SECRET = "HfToken-51e0c4"


def _files_holding(folder: Path, secrets: list[str]) -> list[str]:
    """'path: secret' for every file under `folder` that holds one of `secrets` (in bytes)."""
    found = []
    for path in folder.rglob("*"):
        if path.is_file() and not path.is_symlink():
            data = path.read_bytes()
            found += [f"{path}: {s}" for s in secrets if s.encode() in data]
    return found


@pytest.mark.slow
def test_no_planted_secret_reaches_output_logs_mlflow_results_or_report(fake_data, tmp_path):
    ray_tmp = Path(tempfile.mkdtemp(prefix="rs", dir="/tmp"))  # short: Ray's socket paths have a limit
    (tmp_path / "mlflow").mkdir()
    server = MlflowServer(tmp_path / "mlflow").start()
    try:
        tracking = server.uri.replace("http://", f"http://alice:{TRACKING_PASSWORD}@")
        spec = tiny_spec(tmp_path, fake_data, downstream=["imagenet_r"], interpolations={},
                         mlflow={"tracking_uri": tracking}, resources={"gpu": 0, "cpu": 1})
        path = write_spec(tmp_path / "spec.yaml", spec)
        env = {"AWS_ACCESS_KEY_ID": "AKIAPLANTED", "AWS_SECRET_ACCESS_KEY": AWS_SECRET,
               "HF_TOKEN": OTHER_SECRET, "RAY_TMPDIR": str(ray_tmp)}
        sweep = Driver(["sweep", str(path)], tmp_path / "sweep.log", env=env)
        assert sweep.wait(300) == 0, (tmp_path / "sweep.log").read_text()[-3000:]
        commands = (["report", str(path)], ["validate", str(path)], ["plan", str(path)], ["status", str(path)],
                    ["mlflow", "sync", str(path)], ["mlflow", "sync", str(path), "--tracking-uri", tracking])
        for number, command in enumerate(commands):
            log = tmp_path / f"{number}-{command[0]}.log"
            driver = Driver(command, log, env=env)
            assert driver.wait(300) == 0, log.read_text()[-3000:]
        sweep_log = (tmp_path / "sweep.log").read_text()
        assert "tiny_vit/ft@imagenet_r#0" in sweep_log
        assert "is unavailable" not in sweep_log, "the password was moved out of the URI, which reached MLflow"
        assert (tmp_path / "runs" / "t" / "report" / "report.html").is_file()
    finally:
        server.stop()
    assert list(ray_tmp.rglob("*.log")) and list(ray_tmp.rglob("runtime_env*")), "Ray's logs were written here"
    assert (tmp_path / "mlflow" / "mlflow.db").stat().st_size > 0
    secrets = [TRACKING_PASSWORD, PASSWORD_HEAD, PASSWORD_TAIL, AWS_SECRET, OTHER_SECRET]
    leaks = _files_holding(tmp_path, secrets) + _files_holding(ray_tmp, secrets)
    # The spec file itself holds the tracking password: the user wrote it there
    leaks = [leak for leak in leaks if not leak.startswith(f"{tmp_path / 'spec.yaml'}:")]
    shutil.rmtree(ray_tmp, ignore_errors=True)
    assert leaks == []


@pytest.mark.parametrize("character", list(RESERVED), ids=[f"{ord(c):#x}" for c in RESERVED])
def test_a_password_holding_a_reserved_character_is_redacted_whole(character):
    uri = f"http://alice:Head{character}Tail@host:5000/path"
    for text in (uri, f"warning: MLflow at {uri} is unavailable (boom)", repr(uri), f"{uri}\nnext line"):
        shown = redact(text)
        assert "Head" not in shown and "Tail" not in shown, shown
        assert "http://***@host:5000/path" in shown and "alice" not in shown
    assert has_credentials(uri)


def test_a_password_holding_every_reserved_character_moves_intact(monkeypatch):
    monkeypatch.delenv(TRACKING_USERNAME, raising=False)
    monkeypatch.delenv(PASSWORD_VARIABLE, raising=False)
    password = f"Pw{RESERVED}{RESERVED[::-1]}@end"  # "%" before a space or a "'": not an escape
    assert move_tracking_credentials(f"http://alice:{password}@host:5000/") == "http://host:5000/"
    assert os.environ[PASSWORD_VARIABLE] == password
    assert os.environ[TRACKING_USERNAME] == "alice"


def test_a_percent_encoded_password_is_decoded(monkeypatch):
    monkeypatch.delenv(TRACKING_USERNAME, raising=False)
    monkeypatch.delenv(PASSWORD_VARIABLE, raising=False)
    password = f"Pw{RESERVED}%41"  # "%41" meant literally: encoded as %2541
    uri = f"http://{quote('al ice', safe='')}:{quote(password, safe='')}@host:5000/"
    assert move_tracking_credentials(uri) == "http://host:5000/"
    assert os.environ[PASSWORD_VARIABLE] == password
    assert os.environ[TRACKING_USERNAME] == "al ice"
    assert redact(uri) == "http://***@host:5000/"


@pytest.mark.parametrize("text", [
    "http://host:5000/ is down", "s3://bucket/runs?endpoint_override=host:9000&scheme=http",
    "warning: MLflow at http://127.0.0.1:5000 is unavailable (user:password@ or a token)", "/data/set@v2/x"])
def test_text_without_credentials_is_left_alone(text):
    assert redact(text) == text and not has_credentials(text)


def test_an_at_sign_in_a_path_counts_as_credentials():
    """Erring on the side of redacting: `s3://bucket/runs@2024` may be `s3://key:sec/ret@2024`."""
    assert redact("s3://bucket/runs@2024/x") == "s3://***@2024/x"
    assert not has_credentials("s3://bucket/runs%402024/x")  # how such a path is written


def test_a_secret_option_is_redacted_through_a_hash():
    assert redact("s3://b/r?region=x&secret_key=ab#cd/ef&scheme=http") == "s3://b/r?region=x&secret_key=***&scheme=http"
