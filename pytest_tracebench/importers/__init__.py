"""Importers: read what real agents write into TraceBench traces.

Each importer recognises its format from the file's own markers (``trajectory_format``,
``schema_version: ATIF-...``, record types) and maps every action onto our step vocabulary.
Importers are plugins: the built-in ones come from the ``tracebench_importers`` hook like a
third party's, so a package can add a format.

``import_path`` picks the importer (or takes ``format=``) and turns any failure into a
one-line :class:`~pytest_tracebench.record.trace_file.TraceLoadError` naming the file and the
format.
"""

from __future__ import annotations

from pytest_tracebench.importers._registry import (
    COMPANION_FILES,
    Importer,
    UnsupportedFormat,
    detect_importer,
    get_importers,
    import_path,
    iter_trace_inputs,
)

__all__ = [
    "COMPANION_FILES",
    "Importer",
    "UnsupportedFormat",
    "detect_importer",
    "get_importers",
    "import_path",
    "iter_trace_inputs",
]
