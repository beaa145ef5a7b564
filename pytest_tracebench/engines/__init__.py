"""Engines: where ``tracebench analyze`` runs the pipeline over many files (local processes,
or Ray tasks)."""
