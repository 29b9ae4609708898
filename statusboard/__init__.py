"""statusboard: incident and outage status communicator."""

__version__ = "0.1.0"
