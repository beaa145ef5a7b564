"""Retry policy. THRESHOLD is shared: changing it changes both functions."""

THRESHOLD = 3


def should_retry(attempt):
    return attempt < THRESHOLD


def is_exhausted(attempt):
    return attempt > THRESHOLD
