"""Layered configuration."""

DEFAULTS = {"timeout": 10, "retries": 2, "color": "auto"}


def merge_config(defaults, user):
    merged = {**user, **defaults}
    return merged
