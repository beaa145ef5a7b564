"""Scoring: a run's score, the clusters of findings that recur across a suite, gates and
comparisons that turn scores into pass/fail, and the calibration that fits the score to
verifier verdicts."""
