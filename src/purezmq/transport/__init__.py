"""Transports: endpoint syntax, tcp and ipc listeners and reconnecting connecters, inproc."""
