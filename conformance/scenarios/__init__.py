"""The scenarios, one module per area; importing this package registers them all."""

from conformance.scenarios import http_scope

__all__ = ["http_scope"]
