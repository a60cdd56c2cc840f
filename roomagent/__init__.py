"""roomagent: the headless agent in a conference room's control box."""

__version__ = "0.1.0"
