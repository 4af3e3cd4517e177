"""Toll-fraud and intrusion defences (issue 9): brute-force bans, call caps, spend alerts."""
