"""Team sync client: the wire protocol shared with the server, the push/pull engine and its background loop."""
