"""Credentials are never printed or copied: URIs as people see them (redacted), and a tracking
URI's user:password moved into MLflow's own variables. Storage credentials are not accepted in
URIs at all (spec validation): clients take them from their environment or an instance role.

Where a URI's user-info ends (one rule, `_USERINFO`, for redacting text, for refusing storage
URIs and for moving a tracking URI's credentials): after `scheme://`, at the LAST `@` of the
line that a host follows. Browsers and urllib take the user-info up to the last `@` of the
authority, which ends at the first `/`, `?` or `#`; but a password with an unescaped `/`, `?`,
`#` or space (AWS secret keys hold `/`) makes the URI malformed while the user means every
character of it, so here the user-info may hold anything but a line break. This errs on the
side of redacting: in `s3://bucket/runs@2024` the text `bucket/runs` counts as user-info (that
storage URI is refused; a path's `@` is written `%40`, which pyarrow reads as `@`), and a line
holding a URI and, later, an e-mail address is redacted up to the address's `@`. User and
password split at the first `:` and are percent-decoded (`%40` is `@`; a literal `%` followed
by two hex digits must be written `%25`).
"""

from __future__ import annotations

import os
import re
from urllib.parse import unquote

# scheme://user:password@host -> scheme://***@host (the rule above: up to the line's last "@host")
_USERINFO = re.compile(r"(?P<scheme>\b[A-Za-z][A-Za-z0-9+.-]*://)(?P<userinfo>[^\n]*)@(?=[\w\[%.-]|$)",
                       re.MULTILINE)
# ?secret_key=...&access_key=... (pyarrow's S3 options), token=, password=: the value goes (up to
# the next option or a space: a "#" in a secret is the user's, not a fragment)
_SECRET_OPTION = re.compile(r"(?i)(?P<key>[?&][a-z0-9_]*(?:secret|password|passwd|token|access_key|credential)"
                            r"[a-z0-9_]*=)[^&\s]*")

TRACKING_USERNAME, TRACKING_PASSWORD = "MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD"


def redact(text: str) -> str:
    """`text` with every URI's user:password@ and secret query options replaced by ***."""
    return _SECRET_OPTION.sub(r"\g<key>***", _USERINFO.sub(r"\g<scheme>***@", text))


def has_credentials(uri: str) -> bool:
    return redact(uri) != uri


def without_userinfo(uri: str) -> tuple[str, str | None, str | None]:
    """(the URI without user:password@, the user, the password); Nones when it had none."""
    found = _USERINFO.match(uri)
    if found is None:
        return uri, None, None
    user, _, password = found["userinfo"].partition(":")
    return found["scheme"] + uri[found.end():], unquote(user), unquote(password)


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
