"""Engines: what drives sockets. The socket core (mailbox, routing, waiting, endpoints), sessions
and the ZMTP stream engine, the I/O thread (blocking sockets) and the asyncio core (sockets served
by the event loop itself), and the context's shared runtime. Imports transports, routing,
protocol and options; never the API modules (context, socket, asyncio, poll)."""
