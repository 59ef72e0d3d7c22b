"""Checks of settings, shared by every layer, and what a saved config may build."""
