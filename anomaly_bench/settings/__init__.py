"""What every layer shares: checks of settings, what a saved config may build, and files written
whole or not at all."""
