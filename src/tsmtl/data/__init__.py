"""Data layer: readers, synthetic generators, downloads and preprocessing (no Kedro)."""
