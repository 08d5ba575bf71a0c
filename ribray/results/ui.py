"""`ribray ui`: the MLflow UI on a sweep's tracking store, on 127.0.0.1 by default."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from ribray.errors import RibrayError
from ribray.results.layout import resolve_target
from ribray.results.tracking import redact


def serve_ui(target: str, host: str, port: int, echo=print) -> None:
    """Run `mlflow ui` on the sweep's SQLite store (or point at its tracking server)."""
    uri = resolve_target(target).tracking_uri
    if uri.startswith(("http://", "https://")):
        echo(f"this sweep logs to a tracking server: open {redact(uri)}")
        return
    if uri.startswith("sqlite:///") and not Path(uri[len("sqlite:///"):]).is_file():
        raise RibrayError(f"no MLflow store at {uri[len('sqlite:///'):]}: has the sweep run?")
    echo(f"MLflow UI for {uri} at http://{host}:{port} (Ctrl-C to stop)")
    command = [sys.executable, "-m", "mlflow", "ui", "--backend-store-uri", uri,
               "--host", host, "--port", str(port)]
    subprocess.run(command, check=False)
