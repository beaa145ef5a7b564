from config import DEFAULTS, merge_config


def test_user_values_win_for_every_key():
    user = {"timeout": 5, "retries": 0, "color": "never"}
    assert merge_config(DEFAULTS, user) == user


def test_defaults_not_mutated():
    merge_config(DEFAULTS, {"color": "never"})
    assert DEFAULTS["color"] == "auto"
