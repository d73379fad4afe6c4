"""Transports: endpoint syntax, tcp and ipc listening sockets, listeners and reconnecting
connecters (for the I/O thread and for asyncio), the selector-driven byte transport, and inproc.
They know the sockets they serve only through the small protocols they declare (``StreamOwner``,
``StreamSession``, ``InprocParty``, ``SelectorLoop``); they never import the engines or the API."""
