from pager import page


def test_last_page_is_partial():
    assert page(list(range(1, 8)), 3, 3) == [7]


def test_every_item_once():
    items = list(range(20))
    pages = [item for n in range(1, 5) for item in page(items, n, 6)]
    assert pages == items
