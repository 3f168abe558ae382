"""Domain types, errors and events. No Qt and no I/O of its own (house rule 1)."""
