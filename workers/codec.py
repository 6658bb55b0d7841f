"""Every payload to Temporal encrypted with AES-256-GCM: workflow inputs and results, updates, signals, queries,
activity arguments and results, markers, memos, summaries and failure messages.

Keys come as a key ring: `<id>:<base64 of 32 bytes>` entries, comma-separated, newest first. The first encrypts;
any of them decrypts, by the key id each payload carries in its metadata, so a key is rotated by putting a new one
first and keeping the old one until no running transfer needs it. A payload that was never encrypted (a transfer
started before encryption was turned on) is passed through as it is.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from temporalio.api.common.v1 import Payload
from temporalio.converter import PayloadCodec

ENCODING = b"binary/encrypted"
KEY_ID = "encryption-key-id"
_NONCE_BYTES = 12
_KEY_ID_PATTERN = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


class KeyRingError(ValueError):
    """The key ring setting is malformed; the message never shows key material."""


@dataclass(frozen=True)
class KeyRing:
    keys: tuple[tuple[str, bytes], ...]  # (id, 32-byte key), the first encrypts

    @classmethod
    def parse(cls, text: str) -> KeyRing:
        keys: list[tuple[str, bytes]] = []
        for number, entry in enumerate(filter(None, (part.strip() for part in text.split(","))), start=1):
            key_id, sep, encoded = entry.partition(":")
            if not sep or not _KEY_ID_PATTERN.match(key_id):
                raise KeyRingError(f"key {number}: expected <id>:<base64 key>, the id of letters, digits, '_.-'")
            try:
                key = base64.b64decode(encoded, validate=True)
            except binascii.Error:
                raise KeyRingError(f"key {key_id!r}: not base64") from None
            if len(key) != 32:
                raise KeyRingError(f"key {key_id!r}: must be 32 bytes (AES-256), not {len(key)}")
            if any(key_id == known for known, _ in keys):
                raise KeyRingError(f"key {key_id!r}: given twice")
            keys.append((key_id, key))
        if not keys:
            raise KeyRingError("no key given")
        return cls(tuple(keys))

    @staticmethod
    def new_entry(key_id: str) -> str:
        """A fresh key ring entry, `<id>:<base64 key>`, from the operating system's randomness."""
        return f"{key_id}:{base64.b64encode(AESGCM.generate_key(bit_length=256)).decode()}"


class EncryptionCodec(PayloadCodec):
    def __init__(self, ring: KeyRing) -> None:
        (self._key_id, first), *_ = ring.keys
        self._encrypting = AESGCM(first)
        self._decrypting = {key_id: AESGCM(key) for key_id, key in ring.keys}

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self._encrypt(payload) for payload in payloads]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self._decrypt(payload) for payload in payloads]

    def _encrypt(self, payload: Payload) -> Payload:
        nonce = os.urandom(_NONCE_BYTES)
        sealed = self._encrypting.encrypt(nonce, payload.SerializeToString(), None)
        return Payload(metadata={"encoding": ENCODING, KEY_ID: self._key_id.encode()}, data=nonce + sealed)

    def _decrypt(self, payload: Payload) -> Payload:
        if payload.metadata.get("encoding") != ENCODING:
            return payload  # never encrypted
        key_id = payload.metadata.get(KEY_ID, b"").decode(errors="replace")
        aead = self._decrypting.get(key_id)
        if aead is None:
            raise ValueError(f"payload encrypted with key {key_id!r}, which is not in the key ring")
        try:
            return Payload.FromString(aead.decrypt(payload.data[:_NONCE_BYTES], payload.data[_NONCE_BYTES:], None))
        except InvalidTag:
            raise ValueError(f"payload encrypted with key {key_id!r} does not decrypt: altered, or another key "
                             "of that id") from None
