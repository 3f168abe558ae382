"""Parley's team sync server: an ASGI app on Starlette + uvicorn over PostgreSQL."""

__version__ = "0.1.0"
