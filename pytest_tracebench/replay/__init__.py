"""Replay, three ways: step through a recorded run in order (``viewer``), answer an agent's
calls from a recording (``cassette``), run its commands and edits again (``rerun``)."""
