"""`run_sweep` says everything through its `echo` (the CLI's click.echo, a caller's logger), never
through a bare print beside it."""

from __future__ import annotations

from ribray.engine import sweep
from ribray.plan import make_plan
from ribray.results.layout import SweepLayout
from ribray.spec import parse_spec

from conftest import tiny_spec


def test_a_tracking_store_that_cannot_be_opened_is_said_through_echo(tmp_path, fake_data, capsys):
    (tmp_path / "a-file").write_text("not a folder")
    broken = f"sqlite:///{tmp_path}/a-file/mlflow.db"  # a store under a file: it cannot be opened
    spec = parse_spec(tiny_spec(tmp_path, fake_data, mlflow={"tracking_uri": broken}))
    said = []
    context = sweep._context(spec, SweepLayout.of(spec), make_plan(spec), {}, said.append)
    assert context.tracking is None
    assert len(said) == 1 and said[0].startswith("warning: ") and "results still go to Parquet" in said[0]
    assert capsys.readouterr().out == ""
