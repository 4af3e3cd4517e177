"""kumo's service: FreeSWITCH lookups, event socket, CDRs, billing and the CLI."""

__version__ = "0.1.0"
