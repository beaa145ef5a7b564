"""Small statistics helpers."""


def average(values):
    return sum(values) / len(values)
