"""Toll-fraud and intrusion defences: brute-force bans, call caps, spend alerts."""
