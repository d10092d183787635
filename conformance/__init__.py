"""The ASGI conformance suite (scenarios arrive with the conformance issue)."""
