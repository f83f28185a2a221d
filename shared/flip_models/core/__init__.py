"""The core: the model rules (status transitions, commands, access) and the reads the API serves."""
