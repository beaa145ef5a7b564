from duration import parse_duration


def test_seconds_suffix():
    assert parse_duration("45s") == 45
