from pager import page, page_count


def test_first_page():
    assert page(list(range(1, 8)), 1, 3) == [1, 2, 3]


def test_page_count():
    assert page_count(list(range(7)), 3) == 3
