"""Experiment-level library code of the pipelines: one module per experiment (no Kedro)."""
