from invoice import line
from shop import total


def test_total_rounds_half_up():
    assert total([10.125]) == 10.13


def test_line_rounds_half_up():
    assert line(1, 10.125) == 10.13
