"""``python -m pytest_tracebench`` runs the ``tracebench`` command."""

from __future__ import annotations

import sys

from .cli import main

sys.exit(main())
