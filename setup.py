"""Only the native part of the build; everything else is in pyproject.toml.

``pytest_tracebench.record._steplog`` is the recorder's fast path: it serialises a step, checks it
for secrets and writes it in one call (see the comment at the top of the C file). It is
optional: without a C compiler the install still succeeds and the recorder runs its
pure-Python path, which is what the fast path is tested against.
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "pytest_tracebench.record._steplog",
            sources=["pytest_tracebench/record/_steplog.c"],
            optional=True,
            extra_compile_args=["-O3"],
        )
    ]
)
