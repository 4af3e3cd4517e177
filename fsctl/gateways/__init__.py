"""Customer gateways (issue 8): existing numbers kept through a customer's gateway, channel plans."""
