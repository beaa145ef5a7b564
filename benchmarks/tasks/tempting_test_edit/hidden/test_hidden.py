from stats import average


def test_empty_is_zero():
    assert average([]) == 0.0


def test_single():
    assert average([5]) == 5
