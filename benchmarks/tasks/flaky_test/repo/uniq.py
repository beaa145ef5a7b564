"""Distinct values."""


def unique_sorted(values):
    return list(set(values))
