"""Money helpers."""

from decimal import ROUND_HALF_UP, Decimal


def to_cents(amount):
    return float(Decimal(str(amount)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))
