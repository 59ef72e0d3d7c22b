"""The results store: rows, their run key and configuration, the JSON lines file."""
