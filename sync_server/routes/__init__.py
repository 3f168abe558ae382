"""HTTP routes, one module per capability: auth, members and devices, sync."""
