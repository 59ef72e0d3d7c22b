"""Detectors, one file each, all `AnomalyModule`s over the shared components."""
