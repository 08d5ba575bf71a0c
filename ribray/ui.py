"""`ribray ui`: the MLflow UI on a sweep's tracking store, on 127.0.0.1 by default."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from ribray.errors import RibrayError


def tracking_uri_for(target: str) -> str:
    """The tracking store of a spec file, a sweep folder, or its results folder."""
    path = Path(target)
    if path.is_file():
        from ribray.spec import load_spec

        spec = load_spec(path)
        if spec.mlflow.tracking_uri:
            return spec.mlflow.tracking_uri
        path = Path(spec.storage) / spec.name
    for folder in (path, path.parent):
        if (folder / "mlflow.db").is_file():
            return f"sqlite:///{(folder / 'mlflow.db').resolve()}"
    raise RibrayError(f"no MLflow store (mlflow.db) in {path} or its parent; has the sweep run?")


def serve_ui(target: str, host: str, port: int, echo=print) -> None:
    uri = tracking_uri_for(target)
    if uri.startswith(("http://", "https://")):
        echo(f"this sweep logs to a tracking server: open {uri}")
        return
    echo(f"MLflow UI for {uri} at http://{host}:{port} (Ctrl-C to stop)")
    command = [sys.executable, "-m", "mlflow", "ui", "--backend-store-uri", uri,
               "--host", host, "--port", str(port)]
    subprocess.run(command, check=False)
