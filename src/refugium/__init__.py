"""Refugium: secure documentation, intake and casework for human-rights researchers."""

__version__ = "0.1.0"
