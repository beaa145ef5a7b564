"""Secret redaction, applied to every record before it is written.

The built-in patterns are delivered through the public ``tracebench_redaction_patterns`` hook,
the same way a plugin adds its own. :class:`Redactor` combines them.

Speed matters because redaction runs on every step: the serialised line is first checked for
cheap literal *triggers* (``sk-``, ``ghp_``, ``password``, ...); only a line holding one is
scanned with the full expression, and only a line with a real match is redacted field by field
(so the JSON stays valid whatever a pattern matches).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from .hookspecs import hookimpl

if TYPE_CHECKING:
    from .config import Settings
    from .models import Trace

REDACTED = "[REDACTED]"

_SECRET_NAME = (
    r"[A-Za-z0-9_.-]*(?:password|passwd|passphrase|secret|token|api[_-]?key|apikey"
    r"|access[_-]?key|private[_-]?key|credentials?|auth[_-]?key|session[_-]?key)"
)

#: (name, regex) pairs. A group named ``keep`` is kept in the output.
BUILTIN_PATTERNS: tuple[tuple[str, str], ...] = (
    ("private_key_block",
     r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|\Z)"),
    ("anthropic_key", r"\bsk-ant-[A-Za-z0-9_-]{16,}"),
    ("openai_key", r"\bsk-(?:proj-|svcacct-|admin-|None-)?[A-Za-z0-9_-]{20,}"),
    ("stripe_key", r"\b(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{16,}"),
    ("google_api_key", r"\bAIza[0-9A-Za-z_-]{35}"),
    ("github_token", r"\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{22,})"),
    ("gitlab_token", r"\bglpat-[A-Za-z0-9_-]{20,}"),
    ("slack_token", r"\bxox[abposr]-[A-Za-z0-9-]{10,}"),
    ("huggingface_token", r"\bhf_[A-Za-z0-9]{30,}"),
    ("aws_access_key_id", r"\b(?:AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16}\b"),
    ("jwt", r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"),
    ("bearer_token", r"(?i)(?P<keep>\bbearer\s+)[A-Za-z0-9._~+/=-]{8,}"),
    ("basic_auth_header", r"(?i)(?P<keep>\bauthorization:\s*basic\s+)[A-Za-z0-9+/=]{8,}"),
    ("url_credentials", r"(?P<keep>\b[a-z][a-z0-9+.-]*://[^\s:/@\"']+:)[^\s@/\"']+(?=@)"),
    ("secret_assignment",
     r"(?i)(?P<keep>\b" + _SECRET_NAME + r"[\"']?\s*[=:]\s*[\"']?)"
     r"(?!\d+(?:\.\d+)?\b)(?!\[REDACTED\])[^\s\"',;&}\])\\]+"),
)

#: Lowercase literals of which at least one occurs in any text a built-in pattern matches.
BUILTIN_TRIGGERS: tuple[str, ...] = (
    "private key", "sk-", "sk_", "rk_", "pk_", "aiza", "ghp_", "gho_", "ghu_", "ghs_", "ghr_",
    "github_pat_", "glpat-", "xox", "hf_", "akia", "asia", "abia", "acca", "eyj", "bearer",
    "authorization", "://", "password", "passwd", "passphrase", "secret", "token", "credential",
    "apikey", "api_key", "api-key", "accesskey", "access_key", "access-key", "private_key",
    "private-key", "privatekey", "auth_key", "auth-key", "authkey", "session_key", "session-key",
    "sessionkey",
)

_SECRET_KEY_RE = re.compile(r"(?i)^" + _SECRET_NAME + r"$")

#: The non-ASCII letters that case-insensitive patterns match as ASCII ones (U+0130, U+0131,
#: U+017F, U+212A: Python's ``re`` folds them onto i, i, s, k), raw and as JSON escapes. A text
#: holding one may spell a trigger that the lowercase test cannot see ("pa\u017f\u017fword=..."),
#: so it always gets the full patterns. The native writer applies the same rule.
_FOLDING_LETTERS = frozenset("\u0130\u0131\u017f\u212a")
_FOLDING_ESCAPES = ("\\u0130", "\\u0131", "\\u017f", "\\u212a")


@hookimpl
def tracebench_redaction_patterns(settings: Settings) -> list[tuple[str, str]]:
    """The built-in secret patterns, plus the ones configured in ``redact_patterns``."""
    extra = [(f"configured_{i}", pattern) for i, pattern in enumerate(settings.redact_patterns)]
    return [*BUILTIN_PATTERNS, *extra]


class Redactor:
    """Replaces secrets in strings and nested JSON values with ``[REDACTED]``.

    ``triggers`` is the list of lowercase literals that let :meth:`might_contain` skip a text
    cheaply; patterns that did not come with the built-ins disable that shortcut.
    """

    def __init__(
        self,
        patterns: Iterable[tuple[str, str]],
        *,
        triggers: Iterable[str] | None = BUILTIN_TRIGGERS,
    ) -> None:
        self.patterns = list(patterns)
        compiled = []
        for name, pattern in self.patterns:
            try:
                compiled.append(re.compile(pattern))
            except re.error as exc:
                raise ValueError(f"redaction pattern {name!r} is not a valid regex: {exc}") from exc
        self._compiled = compiled
        builtin = set(BUILTIN_PATTERNS)
        only_builtin = all(p in builtin for p in self.patterns)
        self._triggers = tuple(triggers) if (triggers is not None and only_builtin) else None

    def might_contain(self, text: str | bytes) -> bool:
        """Cheap test: False means no pattern can match ``text`` (str or UTF-8 bytes)."""
        if not self._compiled:
            return False
        if self._triggers is None:
            return True
        # str search is about twice as fast as bytes search in CPython, so decode first.
        raw = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
        if not raw.isascii() and not _FOLDING_LETTERS.isdisjoint(raw):
            return True
        lowered = raw.lower()
        for trigger in self._triggers:
            if trigger in lowered:
                return True
        if "\\u" in lowered and any(escape in lowered for escape in _FOLDING_ESCAPES):
            return True
        return False

    def redact_text(self, text: str) -> str:
        """``text`` with every match replaced (``keep`` groups preserved)."""
        if not self.might_contain(text):
            return text
        for regex in self._compiled:
            if "keep" in regex.groupindex:
                text = regex.sub(_keep_replacement, text)
            else:
                text = regex.sub(REDACTED, text)
        return text

    def redact_value(self, value: Any) -> Any:
        """A copy of a JSON value with secrets redacted in every string, key-aware for dicts."""
        if isinstance(value, str):
            return self.redact_text(value)
        if isinstance(value, dict):
            out: dict[Any, Any] = {}
            for key, item in value.items():
                new_key = self.redact_text(key) if isinstance(key, str) else key
                if (
                    isinstance(key, str)
                    and isinstance(item, str)
                    and item
                    and _SECRET_KEY_RE.match(key)
                ):
                    out[new_key] = REDACTED
                else:
                    out[new_key] = self.redact_value(item)
            return out
        if isinstance(value, (list, tuple)):
            return [self.redact_value(item) for item in value]
        return value


def _keep_replacement(match: re.Match[str]) -> str:
    return (match.group("keep") or "") + REDACTED


def redactor_from_settings(settings: Settings, pm: Any = None) -> Redactor | None:
    """The session's redactor (built-in and plugin patterns), or ``None`` with redaction off.

    Used for everything written from traces we did not record ourselves — imported
    trajectories copied by ``convert``, steps shown in the dashboard, findings that quote the
    agent — so an API key in an agent's log does not leak into a shared report."""
    if not settings.redact:
        return None
    if pm is None:
        from ._manager import get_plugin_manager

        pm = get_plugin_manager(settings.plugins)
    patterns = [p for plist in pm.hook.tracebench_redaction_patterns(settings=settings)
                for p in plist]
    return Redactor(patterns)


def redact_json(value: Any, redactor: Redactor | None) -> Any:
    """``value`` (plain JSON data) with secrets redacted; the same object when there are none."""
    if redactor is None:
        return value
    if not redactor.might_contain(json.dumps(value, default=str, ensure_ascii=False)):
        return value
    return redactor.redact_value(value)


def redact_trace(trace: Trace, redactor: Redactor | None) -> Trace:
    """``trace`` with secrets redacted in its header, steps and end (load warnings kept)."""
    data = trace.model_dump(mode="json")
    redacted = redact_json(data, redactor)
    if redacted is data:
        return trace
    from .models import Trace as TraceModel

    clean = TraceModel.model_validate(redacted)
    clean.warnings = list(trace.warnings)
    return clean
