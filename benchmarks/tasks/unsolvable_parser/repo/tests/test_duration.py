from duration import parse_duration


def test_seconds():
    assert parse_duration("90") == 90


def test_compound():
    assert parse_duration("1h30m") == 5400
    assert parse_duration("2d4h") == 187200
