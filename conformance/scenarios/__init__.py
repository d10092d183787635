"""The scenarios, one module per area; importing this package registers them all."""

from conformance.scenarios import (
    framework_core,
    framework_cors,
    framework_forms,
    framework_gzip,
    framework_middleware,
    framework_middleware_stack,
    framework_sessions,
    framework_static,
    http_request,
    http_response,
    http_response_errors,
    http_response_ext,
    http_response_starlette,
    http_scope,
    lifespan,
    websocket,
)

__all__ = [
    "framework_core",
    "framework_cors",
    "framework_forms",
    "framework_gzip",
    "framework_middleware",
    "framework_middleware_stack",
    "framework_sessions",
    "framework_static",
    "http_request",
    "http_response",
    "http_response_errors",
    "http_response_ext",
    "http_response_starlette",
    "http_scope",
    "lifespan",
    "websocket",
]
