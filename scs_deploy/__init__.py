"""scs-deploy: from bare Linux hosts to a working, SCS-compatible cloud."""

__version__ = "0.1.0"
