import client
import pytest
from tests.test_client import flaky_server


def test_three_retries_succeed():
    assert client.fetch(flaky_server(3), "/x") == "ok:/x"


def test_four_timeouts_fail():
    with pytest.raises(client.TimeoutError_):
        client.fetch(flaky_server(4), "/y")
