"""The scenarios, one module per area; importing this package registers them all."""

from conformance.scenarios import http_request
from conformance.scenarios import http_response
from conformance.scenarios import http_response_errors
from conformance.scenarios import http_scope
from conformance.scenarios import lifespan
from conformance.scenarios import websocket

__all__ = ["http_request", "http_response", "http_response_errors", "http_scope", "lifespan", "websocket"]
