from slug import slugify


def test_cjk():
    assert slugify("東京 Tower") == "東京-tower"
