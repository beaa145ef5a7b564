from policy import is_exhausted, should_retry


def test_third_attempt_is_retried():
    assert should_retry(3)


def test_exhausted_after_threshold():
    assert is_exhausted(4) and not is_exhausted(3)
