"""A clean-room, fully typed reimplementation of the Starlette 0.50 ASGI toolkit."""

__version__ = "0.50.0"
