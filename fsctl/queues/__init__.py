"""Call queues (ACD) per tenant on mod_callcenter: the tenant file's `call_queues:`, their snapshot
part, callcenter.conf served to the switch, the agents' login state and the callers waiting (ESL), and
billing."""
