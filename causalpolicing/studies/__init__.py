"""Reproducing published estimates (placeholder; being built)."""
