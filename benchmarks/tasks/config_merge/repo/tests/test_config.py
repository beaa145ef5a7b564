from config import DEFAULTS, merge_config


def test_user_value_wins():
    assert merge_config(DEFAULTS, {"timeout": 30})["timeout"] == 30


def test_defaults_fill_in():
    assert merge_config(DEFAULTS, {})["retries"] == 2
