"""CURVE's per-message boxes: the fast path (PyNaCl's cffi module) must give exactly the bytes
of the public bindings, open what they seal, and refuse what does not authenticate."""

from __future__ import annotations

import os

import pytest

bindings = pytest.importorskip("nacl.bindings")

from purezmq.protocol.mechanisms.curve import _checked, _message_boxes  # noqa: E402

KEY = bindings.crypto_box_beforenm(os.urandom(32), os.urandom(32))
NONCE = b"CurveZMQMESSAGEC" + (7).to_bytes(8, "big")
PUBLIC = (bindings.crypto_box_afternm, _checked(bindings.crypto_box_open_afternm))


@pytest.mark.parametrize("size", [0, 1, 16, 255, 70_000])
def test_the_fast_boxes_match_the_public_bindings(size):
    seal, unseal = _message_boxes(bindings)
    message = os.urandom(size)
    box = seal(message, NONCE, KEY)
    assert box == bindings.crypto_box_afternm(message, NONCE, KEY)
    assert unseal(box, NONCE, KEY) == message
    assert PUBLIC[1](box, NONCE, KEY) == message


@pytest.mark.parametrize("boxes", [_message_boxes(bindings), PUBLIC], ids=["fast", "public"])
def test_a_box_that_does_not_authenticate_opens_to_none(boxes):
    seal, unseal = boxes
    box = bytearray(seal(b"\x00payload", NONCE, KEY))
    box[-1] ^= 1
    assert unseal(bytes(box), NONCE, KEY) is None
    other_nonce = NONCE[:-1] + b"\x08"
    assert unseal(seal(b"\x00payload", NONCE, KEY), other_nonce, KEY) is None
    assert unseal(b"short", NONCE, KEY) is None
