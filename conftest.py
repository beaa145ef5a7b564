"""Root conftest: pytester for the end-to-end tests in tests/."""

pytest_plugins = ["pytester"]
