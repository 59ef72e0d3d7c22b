"""Metrics as functions, score collection and the plots of scores and curves."""
