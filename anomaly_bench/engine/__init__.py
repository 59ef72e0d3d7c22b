"""One run: config to Trainer, callbacks, loggers, the row written; where it ran."""
