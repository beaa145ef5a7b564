"""A tiny HTTP-like client with retries (the seed's API timeout task)."""


class TimeoutError_(Exception):
    pass


MAX_RETRIES = 0


def fetch(server, path):
    """Ask ``server`` for ``path``; retry on timeout up to MAX_RETRIES extra times."""
    attempts = 0
    while True:
        try:
            return server(path)
        except TimeoutError_:
            attempts += 1
            if attempts > MAX_RETRIES:
                raise
