"""The payload codec and its key ring, on their own."""

from __future__ import annotations

import base64

import pytest
from temporalio.api.common.v1 import Payload

from workers.codec import ENCODING, KEY_ID, EncryptionCodec, KeyRing, KeyRingError

OLD = "old:" + base64.b64encode(bytes(range(32))).decode()  # fixed, so test ids are the same in every process
NEW = "new:" + base64.b64encode(bytes(range(32, 64))).decode()
SECRET = Payload(metadata={"encoding": b"json/plain"}, data=b'{"name": "Dana Lee", "email": "dana@northwind.io"}')


async def test_a_payload_comes_back_as_it_went_in_and_is_unreadable_between():
    codec = EncryptionCodec(KeyRing.parse(NEW))
    [sealed] = await codec.encode([SECRET])
    assert sealed.metadata["encoding"] == ENCODING and sealed.metadata[KEY_ID] == b"new"
    assert b"Dana" not in sealed.SerializeToString() and b"json/plain" not in sealed.SerializeToString()
    assert await codec.decode([sealed]) == [SECRET]
    [again] = await codec.encode([SECRET])
    assert again.data != sealed.data  # a fresh nonce every time


async def test_a_rotated_ring_encrypts_with_the_new_key_and_still_reads_the_old():
    [before] = await EncryptionCodec(KeyRing.parse(OLD)).encode([SECRET])
    rotated = EncryptionCodec(KeyRing.parse(f"{NEW},{OLD}"))
    assert await rotated.decode([before]) == [SECRET]
    [after] = await rotated.encode([SECRET])
    assert after.metadata[KEY_ID] == b"new"
    with pytest.raises(ValueError, match="key 'new', which is not in the key ring"):
        await EncryptionCodec(KeyRing.parse(OLD)).decode([after])


async def test_an_altered_payload_is_refused_and_one_never_encrypted_passes_through():
    codec = EncryptionCodec(KeyRing.parse(NEW))
    [sealed] = await codec.encode([SECRET])
    altered = Payload(metadata=sealed.metadata, data=sealed.data[:-1] + bytes([sealed.data[-1] ^ 1]))
    with pytest.raises(ValueError, match="does not decrypt"):
        await codec.decode([altered])
    assert await codec.decode([SECRET]) == [SECRET]  # a transfer started before encryption was turned on


@pytest.mark.parametrize(("ring", "problem"), [
    ("", "no key given"),
    ("k1", "expected <id>:<base64 key>"),
    ("bad id!:" + base64.b64encode(b"x" * 32).decode(), "expected <id>:<base64 key>"),
    ("k1:not*base64", "not base64"),
    ("k1:" + base64.b64encode(b"short").decode(), "must be 32 bytes"),
    (f"{NEW},{NEW}", "given twice"),
])
def test_a_malformed_ring_is_refused_without_showing_key_material(ring, problem):
    with pytest.raises(KeyRingError, match=problem) as refused:
        KeyRing.parse(ring)
    material = [part.partition(":")[2] for part in ring.split(",") if ":" in part]
    assert not any(m and m in str(refused.value) for m in material)


def test_the_first_key_encrypts_and_spaces_around_entries_are_ignored():
    ring = KeyRing.parse(f" {NEW} , {OLD} ")
    assert [key_id for key_id, _ in ring.keys] == ["new", "old"]
