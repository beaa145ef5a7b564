"""Recording: the ``trace`` fixture's recorder, its line writer (native or Python), secret
redaction before anything is written, live OpenTelemetry capture, and the trace file format
that every later stage reads."""
