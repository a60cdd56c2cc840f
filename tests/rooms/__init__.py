"""Rooms session, simulator and CLI tests."""
