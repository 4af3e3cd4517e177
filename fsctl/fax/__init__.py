"""FAX to e-mail: fax numbers (tenant file, panel, API), the received faxes as PDF, mailed."""
