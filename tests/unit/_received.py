"""The shape in which the protocol layer hands a received message on."""

from __future__ import annotations


def received(message: list[bytes]) -> bytes | list[bytes]:
    """A message as the decoder and the Connection hand it on: a message of one frame as its
    body alone (no list is made for it), a longer one as the list of its bodies."""
    return message[0] if len(message) == 1 else message
