from uniq import unique_sorted

WORDS = ["pear", "fig", "apple", "kiwi", "plum", "lime", "date", "yuzu", "sloe", "nectarine"]


def test_strings_sorted():
    assert unique_sorted(WORDS + WORDS[:4]) == sorted(WORDS)
