"""Secret values built at run time from the rules' ``sample`` templates (no secret is stored in
the repository: every random part is drawn when a test runs)."""

from __future__ import annotations

import random
import re
import string

from pytest_tracebench.record.redaction import BUILTIN_PATTERNS, Rule

CLASSES = {
    "a": string.ascii_letters + string.digits,
    "A": string.ascii_uppercase + string.digits,
    "l": string.ascii_lowercase,
    "u": string.ascii_uppercase,
    "d": string.digits,
    "h": "0123456789abcdef",
    "H": "0123456789ABCDEF",
    "b": string.ascii_letters + string.digits + "+/",
    "w": string.ascii_letters + string.digits + "_-",
    "s": "QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L",
}
_FIELD = re.compile(r"\{([aAludhHbws]):(\d+)\}")


def expand(template: str, rnd: random.Random) -> tuple[str, list[str]]:
    """The template with every ``{class:n}`` drawn, and the drawn parts of 8 characters or
    more (what must never reach an output)."""
    parts: list[str] = []

    def draw(match: re.Match[str]) -> str:
        chars, size = CLASSES[match.group(1)], int(match.group(2))
        value = "".join(rnd.choice(chars) for _ in range(size))
        if match.group(1) == "w" and size > 2:  # no - or _ at the ends: \b must still hold
            value = rnd.choice(CLASSES["a"]) + value[1:-1] + rnd.choice(CLASSES["a"])
        if size >= 8:
            parts.append(value)
        return value

    return _FIELD.sub(draw, template), parts


def samples(rnd: random.Random, rules: tuple[Rule, ...] = BUILTIN_PATTERNS
            ) -> dict[str, tuple[str, list[str]]]:
    """One drawn sample per rule: ``{rule id: (text, secret parts)}``."""
    return {rule.name: expand(rule.sample, rnd) for rule in rules if rule.sample}


def leaks(text: str, planted: dict[str, tuple[str, list[str]]]) -> list[str]:
    """The rules whose secret parts occur in ``text``."""
    return sorted({name for name, (_, parts) in planted.items()
                   if any(part in text for part in parts)})
