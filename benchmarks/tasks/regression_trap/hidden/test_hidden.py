from policy import is_exhausted, should_retry


def test_retry_window():
    assert [should_retry(n) for n in range(1, 6)] == [True, True, True, False, False]


def test_exhausted_unchanged():
    assert [is_exhausted(n) for n in range(1, 6)] == [False, False, False, True, True]
