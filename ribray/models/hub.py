"""Whether the servers pretrained weights download from answer, asked once with a short timeout
(`ribray validate`: "ok" means the trials can get their weights)."""

from __future__ import annotations

import time
import urllib.error
import urllib.parse
import urllib.request

HUB_TIMEOUT_S = 3.0  # a hub that answers does so in well under a second


def server_problem(url: str, timeout_s: float | None = None) -> str | None:
    """None when the server of `url` answers an HTTP request within `timeout_s` seconds (any
    HTTP status: a 401 or 404 is an answer), else why not."""
    timeout_s = HUB_TIMEOUT_S if timeout_s is None else timeout_s
    parts = urllib.parse.urlsplit(url)
    origin = f"{parts.scheme}://{parts.netloc}/"
    started = time.monotonic()
    try:
        with urllib.request.urlopen(urllib.request.Request(origin, method="HEAD"), timeout=timeout_s):
            return None
    except urllib.error.HTTPError:
        return None
    except (urllib.error.URLError, OSError, ValueError) as error:
        reason = getattr(error, "reason", error)
        if isinstance(reason, TimeoutError) or "timed out" in str(reason):
            return f"{origin} did not answer within {timeout_s:g} s"
        return f"{origin} cannot be reached ({reason}; after {time.monotonic() - started:.1f} s)"
