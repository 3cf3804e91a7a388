"""toolverdict: a self-hosted AI-tool comparison publication."""

__version__ = "0.1.0"
