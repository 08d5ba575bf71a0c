"""Credentials are never printed or copied: URIs as people see them (redacted), and a tracking
URI's user:password moved into MLflow's own variables. Storage credentials are not accepted in
URIs at all (spec validation): clients take them from their environment or an instance role."""

from __future__ import annotations

import os
import re
from urllib.parse import unquote, urlsplit, urlunsplit

# scheme://user:password@host -> scheme://***@host
_USERINFO = re.compile(r"(?P<scheme>\b[A-Za-z][A-Za-z0-9+.-]*://)[^/@\s?#]+@")
# ?secret_key=...&access_key=... (pyarrow's S3 options), token=, password=: the value goes
_SECRET_OPTION = re.compile(r"(?i)(?P<key>[?&][a-z0-9_]*(?:secret|password|passwd|token|access_key|credential)"
                            r"[a-z0-9_]*=)[^&\s#]*")

TRACKING_USERNAME, TRACKING_PASSWORD = "MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD"


def redact(text: str) -> str:
    """`text` with every URI's user:password@ and secret query options replaced by ***."""
    return _SECRET_OPTION.sub(r"\g<key>***", _USERINFO.sub(r"\g<scheme>***@", text))


def has_credentials(uri: str) -> bool:
    return redact(uri) != uri


def without_userinfo(uri: str) -> tuple[str, str | None, str | None]:
    """(the URI without user:password@, the user, the password); Nones when it had none."""
    parts = urlsplit(uri)
    if "@" not in parts.netloc:
        return uri, None, None
    userinfo, _, host = parts.netloc.rpartition("@")
    user, _, password = userinfo.partition(":")
    return urlunsplit(parts._replace(netloc=host)), unquote(user), unquote(password)


def move_tracking_credentials(uri: str | None) -> str | None:
    """An http(s) tracking URI's user:password go to MLFLOW_TRACKING_USERNAME / _PASSWORD,
    which MLflow's client reads (and processes started from here inherit; the embedded
    Ray's workers do); the URI that ribray keeps, logs and hands to trials has none."""
    if uri is None:
        return None
    clean, user, password = without_userinfo(uri)
    if user is None:
        return uri
    for name, value in ((TRACKING_USERNAME, user), (TRACKING_PASSWORD, password)):
        if os.environ.get(name, value) != value:
            from ribray.errors import SpecError

            raise SpecError(f"mlflow.tracking_uri {redact(uri)}: its user:password differ from {name} in the "
                            "environment; give the credentials once (the environment is the safer place)")
        os.environ[name] = value or ""
    return clean
