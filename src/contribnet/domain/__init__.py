"""Pydantic models and value types of contribnet; no I/O."""
