"""Rating, subscriptions over time, monthly statements, invoices (PDF, e-mail, CSV)."""
