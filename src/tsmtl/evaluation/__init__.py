"""Metrics, rank tables and plots shared by every pipeline."""
