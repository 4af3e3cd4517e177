"""Pure call routing: snapshots in, plans out (no database, no clock, no Flask, no gevent)."""
