"""``python -m pytest_tracebench`` runs the ``tracebench`` command."""

from __future__ import annotations

import sys

from pytest_tracebench.cli import main

sys.exit(main())
