"""The studio's words, in Vietnamese (default) and English, looked up in the one table of texts.

Headings, buttons and form labels that only the studio shows live in `motcua.report.i18n` (``STUDIO_TEXTS``,
keyed into its ``TEXTS`` as ``studio.<key>``); `t(lang)` gives a function that looks a key up among the studio's
words first and then among the report's, so a column the pages and ``report.html`` share ("Đơn vị",
"Chi phí (VND)", "Xác suất đạt mục tiêu trước hạn") has one wording.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from motcua.report.i18n import STUDIO_TEXTS, TEXTS, check_lang

__all__ = ["STUDIO_TEXTS", "t"]


def t(lang: str) -> Callable[..., str]:
    """The text lookup of `lang`: the studio's keys, then the report's (one wording for what both show)."""
    words = TEXTS[check_lang(lang)]

    def lookup(key: str, **values: Any) -> str:
        template = words.get(f"studio.{key}") or words.get(key) or key
        return template.format(**values) if values else template

    return lookup
