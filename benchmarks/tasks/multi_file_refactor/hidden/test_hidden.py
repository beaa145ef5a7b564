from invoice import line
from shop import total


def test_both_round_like_money():
    assert total([0.005]) == 0.01
    assert line(3, 0.335) == 1.01
