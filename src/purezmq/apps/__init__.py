"""Applications built on purezmq's public API.

``purezmq.apps.web`` is the "heavy work off the request" web demo (an aiohttp server that PUSHes
CPU-heavy jobs to worker processes and relays their progress to the browser over a WebSocket), and
``purezmq.apps.worker`` is its worker process. ``purezmq.apps.tasks`` holds the job kinds and
``purezmq.apps.dispatch`` the job bookkeeping (no I/O). The web server needs the ``web`` extra
(aiohttp); the worker, the job kinds and the bookkeeping need the standard library only.
"""
