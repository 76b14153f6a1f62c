"""Local gateways that speak each provider's real protocol, for development and tests."""
