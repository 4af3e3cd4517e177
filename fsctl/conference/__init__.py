"""Conference rooms per tenant: the tenant file's `conference_rooms:`, their snapshot part and billing."""
