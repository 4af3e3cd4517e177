"""Caller screening: 非通知拒否 per number and per user, and the tenant's blocklist of callers.

The routing check itself is pure and lives with routing (fsctl.routing.screening); this package
brings its data to the core's seams: a snapshot part, a tenant-file section and a billable item.
"""
