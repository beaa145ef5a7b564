from slug import slugify


def test_plain():
    assert slugify("Hello World") == "hello-world"


def test_accents_survive():
    assert slugify("Crème brûlée") == "crème-brûlée"
