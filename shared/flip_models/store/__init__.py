"""The store: settings, engine and sessions, tables and migrations (imports nothing above it)."""
