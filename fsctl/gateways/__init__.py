"""Customer gateways: existing numbers kept through a customer's gateway, channel plans."""
