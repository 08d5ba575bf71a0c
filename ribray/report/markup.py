"""Text the report writes in the terminal and in report.md as HTML: the backquoted commands in
it (`ribray data fake`) become code."""

from __future__ import annotations

import re
from html import escape


def with_code(text: str) -> str:
    """`text` escaped as HTML, its `backquoted` spans as <code>."""
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", escape(text))
