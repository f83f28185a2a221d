"""The HTTP door: what every API function shares (resolver, errors → HTTP, error bodies)."""
