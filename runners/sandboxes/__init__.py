"""Where a CLI runner's process runs: one small class per sandbox, one module each (see ``base``)."""
