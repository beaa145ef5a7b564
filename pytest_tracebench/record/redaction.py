"""Secret redaction, applied to every record before it is written.

The built-in rules are data: ``secret_rules.toml`` beside this module, in gitleaks' rule schema
(an id, a regex, the lowercase *keywords* one of which every match holds, the group that is the
secret). They are read once, at import, and each regex is compiled the first time a text holds
one of its keywords. A gitleaks configuration file loads through the same code
(:func:`load_rules`, the ``redact_rules`` setting): its Go regex syntax is translated to
Python's. Plugins add rules through the ``tracebench_redaction_patterns`` hook, as
``(name, regex)`` pairs or :class:`Rule` objects; a pair's keywords are derived from its regex.

Speed matters because redaction runs on every step. A text is first checked for the rules'
keywords all at once (by the native scanner where it was built, else one substring search per
keyword); a text holding none is left as it is, and one holding some is scanned only by the
rules those keywords belong to. The recorder's native writer runs the same check on the
serialised line and hands every line that holds a keyword to the Python path, so a rule whose
keywords are sound can never be skipped there. A line with a real match is redacted field by
field, so the JSON stays valid whatever a pattern matches.
"""

from __future__ import annotations

import functools
import json
import math
import re
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pytest_tracebench.hookspecs import hookimpl
from pytest_tracebench.manager import get_plugin_manager
from pytest_tracebench.record._stepwriter import compile_triggers

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

if TYPE_CHECKING:
    from pytest_tracebench.models import Trace
    from pytest_tracebench.settings import Settings

REDACTED = "[REDACTED]"
RULES_FILE = Path(__file__).with_name("secret_rules.toml")

#: Characters a keyword may hold: printable ASCII that a JSON line carries as it is (``"`` and
#: ``\`` are escaped there, so a keyword holding one would never be seen in a line).
_KEYWORD_CHARS = frozenset(chr(c) for c in range(0x20, 0x7F)) - {'"', "\\"}


@dataclass(frozen=True)
class Rule:
    """One secret rule: ``regex`` finds it, ``keywords`` say which texts may hold it.

    ``keywords`` are lowercase literals of which at least one occurs in every text the regex
    matches (case-insensitively); an empty tuple means the rule runs on every text (and turns
    the native writer's shortcut off). ``secret_group`` names the group that is replaced by
    ``[REDACTED]``; ``None`` means the first group that matched, or the whole match when the
    regex has no group. A group named ``keep`` (the hook's older convention) is kept and the
    rest of the match replaced. ``entropy`` (bits per character) leaves candidates that look
    like words rather than keys.
    """

    name: str
    regex: str
    keywords: tuple[str, ...] = ()
    secret_group: int | str | None = None
    entropy: float | None = None
    sample: str | None = None
    description: str = ""

    def __iter__(self) -> Any:  # ``name, regex = rule``, as for the hook's pairs
        return iter((self.name, self.regex))


@dataclass
class _Compiled:
    rule: Rule
    regex: re.Pattern[str] | None = None
    keep: bool = False
    groups: int = 0


def _entropy(text: str) -> float:
    if not text:
        return 0.0
    counts: dict[str, int] = {}
    for char in text:
        counts[char] = counts.get(char, 0) + 1
    size = len(text)
    return -sum(n / size * math.log2(n / size) for n in counts.values())


# -- Go (RE2) syntax to Python ------------------------------------------------------------------

def translate_go_regex(pattern: str) -> str:
    """A gitleaks (Go RE2) pattern in Python ``re`` syntax.

    What differs in the rules gitleaks ships: inline flags after the start (``\\b(p8e-(?i)...)``,
    which Python refuses) become a scoped group to the end of the enclosing group; ``\\z`` is
    ``\\Z``. Everything else they use (``(?-i:...)``, ``(?s:.)``, ``\\x60``, ``(?P<name>``) is
    the same in both.
    """
    out: list[str] = []
    closers: list[int] = []  # per open group: how many scoped flag groups to close with it
    i, n, in_class = 0, len(pattern), False
    while i < n:
        char = pattern[i]
        if char == "\\" and i + 1 < n:
            out.append("\\Z" if pattern[i + 1] == "z" else pattern[i:i + 2])
            i += 2
            continue
        if in_class:
            if char == "]":
                in_class = False
            out.append(char)
            i += 1
            continue
        if char == "[":
            in_class = True
            out.append(char)
            if pattern[i + 1:i + 2] == "^":
                out.append("^")
                i += 1
            if pattern[i + 1:i + 2] == "]":
                out.append("]")
                i += 1
            i += 1
            continue
        flags = re.match(r"\(\?([a-zA-Z]+)\)", pattern[i:])
        if flags is not None and (i > 0 or closers):
            # (?i) inside: scope it to the rest of the enclosing group.
            out.append(f"(?{flags.group(1)}:")
            if closers:
                closers[-1] += 1
            else:
                closers.append(1)  # top level: closed at the end
            i += flags.end()
            continue
        if char == "(":
            closers.append(0)
        elif char == ")" and closers:
            out.append(")" * closers.pop())
        out.append(char)
        i += 1
    out.append(")" * sum(closers))
    return "".join(out)


_ESCAPED_BOUNDARY = r"(?:\b|(?<=\\[nrt]))"


def escaped_boundaries(pattern: str) -> str:
    """``pattern`` with each word boundary ``\b`` also true after an escaped ``\n``, ``\r``
    or ``\t``: text that holds JSON inside a string ("...\\nLTAI...") has a word character
    (the ``n``) right before a key, and ``\b`` alone would let the key through."""
    out: list[str] = []
    i, n, in_class = 0, len(pattern), False
    while i < n:
        char = pattern[i]
        if char == "\\" and i + 1 < n:
            pair = pattern[i:i + 2]
            out.append(_ESCAPED_BOUNDARY if pair == "\\b" and not in_class else pair)
            i += 2
            continue
        if char == "[" and not in_class:
            in_class = True
        elif char == "]" and in_class:
            in_class = False
        out.append(char)
        i += 1
    return "".join(out)


# -- keywords derived from a regex --------------------------------------------------------------

def derive_keywords(pattern: str) -> tuple[str, ...]:
    """Lowercase literals at least one of which every match of ``pattern`` holds; ``()`` when
    none can be proven (the rule then runs on every text).

    Walks the parsed pattern: a sequence needs only its most selective part (its longest run
    of literal characters, or an alternation every branch of which has literals); an
    alternation needs one literal of each branch. Literals are cut at characters a JSON line
    escapes; a part of a required literal is itself required, so the result stays sound.
    """
    try:
        import re._parser as sre_parse  # type: ignore[import-not-found,unused-ignore]
    except ImportError:  # pragma: no cover - Python 3.10
        import sre_parse  # type: ignore[import-not-found,no-redef,unused-ignore]
    try:
        parsed = sre_parse.parse(pattern)
    except (re.error, RecursionError):
        return ()
    found = _required(parsed, sre_parse)
    if not found or any(len(k) < 3 for k in found):
        return ()
    return tuple(sorted(found))


def _safe_piece(literal: str) -> str:
    pieces = re.split(r"[^\x20-\x7e]|[\"\\]", literal.lower())
    return max(pieces, key=len) if pieces else ""


def _required(items: Any, sre: Any) -> set[str] | None:
    """The literal set of one sequence of parsed items, or ``None``."""
    constants = sre._constants if hasattr(sre, "_constants") else sre
    literal_op, subpattern, branch, in_op = (constants.LITERAL, constants.SUBPATTERN,
                                             constants.BRANCH, constants.IN)
    best: set[str] | None = None
    run: list[str] = []

    def score(candidate: set[str]) -> int:
        return min(len(k) for k in candidate)

    def consider(candidate: set[str] | None) -> None:
        nonlocal best
        if candidate and all(candidate) and (best is None or score(candidate) > score(best)):
            best = candidate

    def end_run() -> None:
        if run:
            piece = _safe_piece("".join(run))
            consider({piece} if piece else None)
            run.clear()

    for op, arg in items:
        if op is literal_op:
            run.append(chr(arg))
            continue
        if op is in_op and len(arg) == 1 and arg[0][0] is literal_op:
            run.append(chr(arg[0][1]))
            continue
        end_run()
        if op is subpattern:
            consider(_required(arg[-1], sre))
        elif op is branch:
            union: set[str] = set()
            for alternative in arg[1]:
                sub = _required(alternative, sre)
                if not sub:
                    union = set()
                    break
                union |= sub
            consider(union or None)
        elif op in (constants.MAX_REPEAT, constants.MIN_REPEAT) and arg[0] >= 1:
            consider(_required(arg[2], sre))
    end_run()
    return best


# -- loading rules ------------------------------------------------------------------------------

def load_rules(path: str | Path, *, go_syntax: bool | None = None) -> list[Rule]:
    """The rules of a gitleaks-schema TOML file (``[[rules]]`` with ``id``, ``regex``, ...).

    ``go_syntax`` translates the regexes from Go's syntax (default: for any file but ours).
    Rules without a ``regex`` (gitleaks' path-only rules) are skipped; a rule without keywords
    gets them derived from its regex."""
    path = Path(path)
    with path.open("rb") as fh:
        data = tomllib.load(fh)
    translate = go_syntax if go_syntax is not None else path.resolve() != RULES_FILE.resolve()
    rules: list[Rule] = []
    for entry in data.get("rules", []):
        regex = entry.get("regex")
        if not isinstance(regex, str) or not regex:
            continue
        if translate:
            regex = translate_go_regex(regex)
        keywords = tuple(str(k).lower() for k in entry.get("keywords", ()))
        if not keywords or not all(len(k) >= 2 and set(k) <= _KEYWORD_CHARS for k in keywords):
            keywords = derive_keywords(regex)
        group = entry.get("secretGroup")
        rules.append(Rule(
            name=str(entry.get("id", f"rule_{len(rules)}")),
            regex=escaped_boundaries(regex),
            keywords=keywords,
            secret_group=int(group) if isinstance(group, int) and group > 0 else None,
            entropy=float(entry["entropy"]) if entry.get("entropy") is not None else None,
            sample=entry.get("sample"),
            description=str(entry.get("description", "")),
        ))
    return rules


BUILTIN_PATTERNS: tuple[Rule, ...] = tuple(load_rules(RULES_FILE))
"""The built-in rules (``secret_rules.toml``), in the order they are applied."""


def minimal_triggers(keywords: Iterable[str]) -> tuple[str, ...]:
    """The keywords that no other keyword contains: a text holds one of these whenever it
    holds any keyword, so they are all a pre-check needs to look for."""
    unique = sorted(set(keywords), key=lambda k: (len(k), k))
    kept: list[str] = []
    for keyword in unique:
        if not any(shorter in keyword for shorter in kept):
            kept.append(keyword)
    return tuple(sorted(kept))


BUILTIN_TRIGGERS: tuple[str, ...] = minimal_triggers(
    k for rule in BUILTIN_PATTERNS for k in rule.keywords)
"""Lowercase literals of which at least one occurs in any text a built-in rule matches."""

# Key names whose string value is a secret whatever it looks like ({"password": "x"}).
_SECRET_NAME = (
    r"[A-Za-z0-9_.-]*(?:password|passwd|passphrase|secret|token|api[_-]?key|apikey"
    r"|access[_-]?key|private[_-]?key|credentials?|auth[_-]?key|session[_-]?key|_pass|_pwd)"
)
_SECRET_KEY_RE = re.compile(r"(?i)^" + _SECRET_NAME + r"$")

#: The non-ASCII letters that case-insensitive patterns match as ASCII ones (U+0130, U+0131,
#: U+017F, U+212A: Python's ``re`` folds them onto i, i, s, k), raw and as JSON escapes. A text
#: holding one may spell a keyword that the lowercase test cannot see ("pa\u017f\u017fword=..."),
#: so it always gets every rule. The native writer applies the same rule.
_FOLDING_LETTERS = frozenset("\u0130\u0131\u017f\u212a")
_FOLDING_ESCAPES = ("\\u0130", "\\u0131", "\\u017f", "\\u212a")


@hookimpl
def tracebench_redaction_patterns(settings: Settings) -> list[Any]:
    """The built-in rules, the rule files in ``redact_rules`` and the ``redact_patterns``."""
    files = [rule for path in getattr(settings, "redact_rules", []) or []
             for rule in load_rules(path)]
    extra = [(f"configured_{i}", pattern) for i, pattern in enumerate(settings.redact_patterns)]
    return [*BUILTIN_PATTERNS, *files, *extra]


def _as_rule(pattern: Rule | tuple[str, str] | Sequence[str]) -> Rule:
    if isinstance(pattern, Rule):
        return pattern
    name, regex = pattern
    return Rule(name=str(name), regex=str(regex), keywords=derive_keywords(str(regex)))


def _native_scanner(triggers: tuple[str, ...]) -> Any:
    """The native encoder's pre-check over ``triggers``, or ``None`` where it is not built or
    cannot hold them."""
    return compile_triggers(triggers) if triggers else None


@dataclass
class _Index:
    """Which rules a text's keywords select (built once per redactor)."""

    always: list[int] = field(default_factory=list)
    by_trigger: dict[str, list[tuple[str, int]]] = field(default_factory=dict)


class Redactor:
    """Replaces secrets in strings and nested JSON values with ``[REDACTED]``.

    ``patterns`` are :class:`Rule` objects or ``(name, regex)`` pairs. ``triggers`` is what the
    cheap test :meth:`might_contain` looks for: by default the rules' keywords (``None`` when
    a rule has none, and then every text is scanned).
    """

    def __init__(
        self,
        patterns: Iterable[Rule | tuple[str, str]],
        *,
        triggers: Iterable[str] | bool | None = True,
    ) -> None:
        self.rules = [_as_rule(p) for p in patterns]
        self.patterns = [(rule.name, rule.regex) for rule in self.rules]
        builtin = set(BUILTIN_PATTERNS)
        self._compiled = [_Compiled(rule) for rule in self.rules]
        for compiled in self._compiled:
            if compiled.rule not in builtin:
                self._compile(compiled)  # a bad plugin or configured pattern fails here, now
        index = _Index()
        keywords: list[str] = []
        for position, rule in enumerate(self.rules):
            if not rule.keywords:
                index.always.append(position)
            keywords.extend(rule.keywords)
        derived = minimal_triggers(keywords)
        for position, rule in enumerate(self.rules):
            for keyword in rule.keywords:
                for trigger in derived:
                    if trigger in keyword:
                        index.by_trigger.setdefault(trigger, []).append((keyword, position))
        self._index = index
        if triggers is True:
            chosen: tuple[str, ...] | None = None if index.always else derived
        elif triggers is False or triggers is None:
            chosen = None
        else:
            # Lowercase, as the pre-check compares them with the lowercased text (an
            # uppercase trigger could never match there, and the native check refuses it).
            chosen = tuple(t.lower() for t in triggers)
        self._triggers: tuple[str, ...] | None = chosen if self.rules else ()
        self._scanner = _native_scanner(self._triggers) if self._triggers else None

    @property
    def triggers(self) -> tuple[str, ...] | None:
        """What the pre-check looks for (``None``: every text is scanned)."""
        return self._triggers

    def _compile(self, compiled: _Compiled) -> re.Pattern[str]:
        if compiled.regex is None:
            rule = compiled.rule
            try:
                regex = re.compile(rule.regex)
            except (re.error, OverflowError, RecursionError) as exc:
                raise ValueError(f"redaction pattern {rule.name!r} is not a valid regex: "
                                 f"{exc}") from exc
            compiled.keep = "keep" in regex.groupindex
            compiled.groups = regex.groups
            compiled.regex = regex
        return compiled.regex

    def might_contain(self, text: str | bytes) -> bool:
        """Cheap test: False means no rule can match ``text`` (str or UTF-8 bytes)."""
        if not self.rules:
            return False
        triggers = self._triggers
        if triggers is None:
            return True
        if self._scanner is not None:
            data = text if isinstance(text, bytes) else text.encode("utf-8", "surrogatepass")
            if self._scanner.might_contain(data):
                return True
            return b"\\u" in data and any(e.encode() in data.lower()
                                          for e in _FOLDING_ESCAPES)
        # str search is about twice as fast as bytes search in CPython, so decode first.
        raw = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
        if not raw.isascii() and not _FOLDING_LETTERS.isdisjoint(raw):
            return True
        lowered = raw.lower()
        for trigger in triggers:
            if trigger in lowered:
                return True
        return "\\u" in lowered and any(escape in lowered for escape in _FOLDING_ESCAPES)

    def _selected(self, text: str) -> list[int]:
        """The positions of the rules that may match ``text``, in order."""
        if self._triggers is None or (not text.isascii()
                                      and not _FOLDING_LETTERS.isdisjoint(text)):
            return list(range(len(self.rules)))
        if not self.might_contain(text):
            return list(self._index.always)
        lowered = text.lower()
        chosen = set(self._index.always)
        for trigger, entries in self._index.by_trigger.items():
            if trigger in lowered:
                chosen.update(position for keyword, position in entries
                              if position not in chosen and keyword in lowered)
        return sorted(chosen)

    def redact_text(self, text: str) -> str:
        """``text`` with every match replaced (see :class:`Rule` for what is kept)."""
        if not text:
            return text
        for position in self._selected(text):
            compiled = self._compiled[position]
            regex = self._compile(compiled)
            text = regex.sub(lambda m, c=compiled: _replacement(m, c), text)  # type: ignore[misc]
        return text

    def spans(self, text: str) -> list[tuple[int, int]]:
        """Where the secrets in ``text`` are (the part each rule would replace), in order."""
        found = []
        for position in self._selected(text):
            compiled = self._compiled[position]
            for match in self._compile(compiled).finditer(text):
                span = _secret_span(match, compiled)
                if span is not None:
                    found.append((match.start() + span[0], match.start() + span[1]))
        return sorted(found)

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


def _secret_span(match: re.Match[str], compiled: _Compiled) -> tuple[int, int] | None:
    """Where in ``match`` the secret is (offsets into the match), or ``None`` to leave it."""
    whole = match.group(0)
    if compiled.keep:
        keep = match.group("keep") or ""
        start, end = len(keep), len(whole)
        secret = whole[start:]
    else:
        group = compiled.rule.secret_group
        if group is None and compiled.groups:
            group = next((g for g in range(1, compiled.groups + 1) if match.group(g)), None)
            if group is None:
                return None
        if group is None:
            secret, start, end = whole, 0, len(whole)
        else:
            secret = match.group(group) or ""
            start, end = match.start(group) - match.start(), match.end(group) - match.start()
    if not secret or secret == REDACTED:
        return None
    entropy = compiled.rule.entropy
    if entropy is not None and _entropy(secret) < entropy:
        return None
    return start, end


def _replacement(match: re.Match[str], compiled: _Compiled) -> str:
    whole = match.group(0)
    span = _secret_span(match, compiled)
    if span is None:
        return whole
    return whole[:span[0]] + REDACTED + whole[span[1]:]


def clip(text: str, limit: int, redactor: Redactor | None = None) -> str:
    """``text[:limit]``, cut earlier when the limit falls inside a secret.

    For the places that shorten text before anything is redacted (an importer keeps the first
    4,000 characters of a task description): a secret cut in two matches no rule any more
    (a JWT without its signature), so the cut moves to where the secret starts."""
    if len(text) <= limit:
        return text
    window = text[:limit + 8192]
    cut = limit
    spans = (redactor or default_redactor()).spans(window)
    moved = True
    while moved:
        moved = False
        for start, end in spans:
            if start < cut < end:
                cut, moved = start, True
    return text[:cut]


def default_redactor() -> Redactor:
    """The built-in rules alone (one per process), for text printed outside a session."""
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = Redactor(BUILTIN_PATTERNS)
    return _DEFAULT


_DEFAULT: Redactor | None = None


def redactor_from_settings(settings: Settings, pm: Any = None) -> Redactor | None:
    """The session's redactor (built-in and plugin patterns), or ``None`` with redaction off.

    Used for everything written from traces we did not record ourselves — imported
    trajectories copied by ``convert``, steps shown in the dashboard, findings that quote the
    agent — so an API key in an agent's log does not leak into a shared report."""
    if not settings.redact:
        return None
    if pm is None:
        pm = get_plugin_manager(settings.plugins)
    patterns = tuple(p for plist in pm.hook.tracebench_redaction_patterns(settings=settings)
                     for p in plist)
    if patterns == BUILTIN_PATTERNS:
        return default_redactor()
    try:
        return _shared_redactor(patterns)
    except TypeError:  # a plugin's pattern that is not hashable (a list pair, say)
        return Redactor(patterns)


@functools.lru_cache(maxsize=16)
def _shared_redactor(patterns: tuple[Rule | tuple[str, str], ...]) -> Redactor:
    """One redactor per set of patterns: the session's recorder, its pipeline and the end of
    the run each ask for it, and each built its own from a plugin's patterns."""
    return Redactor(patterns)


def redact_json(value: Any, redactor: Redactor | None) -> Any:
    """``value`` (plain JSON data) with secrets redacted; the same object when there are none."""
    if redactor is None:
        return value
    if not redactor.might_contain(json.dumps(value, default=str, ensure_ascii=False)):
        return value
    return redactor.redact_value(value)


def redact_trace(trace: Trace, redactor: Redactor | None) -> Trace:
    """``trace`` with secrets redacted in its header, steps and end (load warnings kept).

    Part by part, so that a trace of many steps costs one step's copy at a time, not a second
    copy of the whole trace (a 3 MB trajectory of 30,000 small steps once took 170 MB here);
    parts without a secret are kept as they are."""
    if redactor is None:
        return trace

    def clean(part: Any) -> Any:
        data = part.model_dump(mode="json")
        redacted = redact_json(data, redactor)
        return part if redacted is data else type(part).model_validate(redacted)

    header = clean(trace.header)
    steps = [clean(step) for step in trace.steps]
    end = clean(trace.end) if trace.end is not None else None
    changed = header is not trace.header or end is not trace.end or any(
        new is not old for new, old in zip(steps, trace.steps, strict=True))
    if not changed:
        return trace
    return trace.model_copy(update={
        "header": header, "steps": steps, "end": end,
        "warnings": [redactor.redact_text(w) for w in trace.warnings]})
