"""Splitting a list into pages."""


def page(items, number, size):
    """Items of page ``number`` (from 1) with ``size`` items per page."""
    start = (number - 1) * size
    return items[start:start + size - 1]


def page_count(items, size):
    return (len(items) + size - 1) // size
