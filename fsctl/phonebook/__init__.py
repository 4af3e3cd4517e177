"""The tenant's shared phonebook: the tenant file's `phonebook:`, its snapshot part, CSV import/export."""
