"""Shared test fixtures. Tests use real sockets and pseudo-terminals, never mocks."""
