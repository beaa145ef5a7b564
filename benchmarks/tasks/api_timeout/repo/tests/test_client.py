import client
import pytest


def flaky_server(failures):
    state = {"left": failures}

    def serve(path):
        if state["left"] > 0:
            state["left"] -= 1
            raise client.TimeoutError_(path)
        return f"ok:{path}"

    return serve


def test_fetch_without_timeouts():
    assert client.fetch(flaky_server(0), "/a") == "ok:/a"


def test_fetch_retries_on_timeout():
    assert client.fetch(flaky_server(2), "/b") == "ok:/b"


def test_gives_up_eventually():
    with pytest.raises(client.TimeoutError_):
        client.fetch(flaky_server(50), "/c")
