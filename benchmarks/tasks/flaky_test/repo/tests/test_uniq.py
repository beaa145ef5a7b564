import random

from uniq import unique_sorted


def test_small_ints():
    assert unique_sorted([3, 1, 3, 2]) == [1, 2, 3]


def test_shuffled_strings():
    # Set order of strings changes from run to run (hash randomisation): flaky until fixed.
    words = ["pear", "fig", "apple", "kiwi", "plum"]
    random.shuffle(words)
    assert unique_sorted(words + words[:2]) == sorted(words)
