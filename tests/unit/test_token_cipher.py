from __future__ import annotations

import base64

import pytest

from persistence.token_cipher import KeyRing, TokenCipher, TokenDecryptionError, TokenKeyMissing

ROW_ID = "0b6f7c0e-5d1a-4c3e-9a53-2f4f8e1d9c10"
OTHER_ROW_ID = "7d2e4a91-1c3b-4f6a-8e0d-5b9c2a7f3e48"
TOKEN = "eyJ6bSI6ImFjY2VzcyJ9.zoom-access-token"

NEW_KEY = KeyRing.generate_key()
OLD_KEY = KeyRing.generate_key()


def cipher_for(config: str) -> TokenCipher:
    return TokenCipher(KeyRing.from_config(config))


def payload_of(value: str) -> bytes:
    return base64.urlsafe_b64decode(value.rsplit(".", 1)[1])


def with_payload(value: str, payload: bytes) -> str:
    head, _ = value.rsplit(".", 1)
    return f"{head}.{base64.urlsafe_b64encode(payload).decode()}"


@pytest.fixture
def cipher() -> TokenCipher:
    return cipher_for(f"new:{NEW_KEY}")


def test_decrypt_returns_what_was_encrypted(cipher: TokenCipher) -> None:
    value = cipher.encrypt(TOKEN, ROW_ID)

    assert cipher.decrypt(value, ROW_ID) == TOKEN


def test_non_ascii_plaintext_survives_the_roundtrip(cipher: TokenCipher) -> None:
    assert cipher.decrypt(cipher.encrypt("jeton-été-✓", ROW_ID), ROW_ID) == "jeton-été-✓"


def test_value_names_its_format_version_and_key_and_hides_the_token(cipher: TokenCipher) -> None:
    value = cipher.encrypt(TOKEN, ROW_ID)

    assert value.startswith("v1.new.")
    assert cipher.key_id(value) == "new"
    assert TOKEN not in value


def test_same_plaintext_encrypts_differently_each_time(cipher: TokenCipher) -> None:
    first = cipher.encrypt(TOKEN, ROW_ID)
    second = cipher.encrypt(TOKEN, ROW_ID)

    assert first != second
    assert payload_of(first)[:12] != payload_of(second)[:12]


def test_value_bound_to_another_row_is_refused(cipher: TokenCipher) -> None:
    value = cipher.encrypt(TOKEN, ROW_ID)

    with pytest.raises(TokenDecryptionError, match="failed authentication"):
        cipher.decrypt(value, OTHER_ROW_ID)


def test_encrypting_without_a_row_binding_is_refused(cipher: TokenCipher) -> None:
    with pytest.raises(ValueError, match="associated data"):
        cipher.encrypt(TOKEN, "")


@pytest.mark.parametrize("position", [0, 11, 12, -1], ids=["nonce", "nonce-end", "ciphertext", "tag"])
def test_flipped_byte_is_refused(cipher: TokenCipher, position: int) -> None:
    value = cipher.encrypt(TOKEN, ROW_ID)
    payload = bytearray(payload_of(value))
    payload[position] ^= 0x01

    with pytest.raises(TokenDecryptionError, match="failed authentication"):
        cipher.decrypt(with_payload(value, bytes(payload)), ROW_ID)


def test_value_under_a_key_id_missing_from_the_ring_is_refused(cipher: TokenCipher) -> None:
    value = cipher_for(f"retired:{OLD_KEY}").encrypt(TOKEN, ROW_ID)

    with pytest.raises(TokenDecryptionError, match="'retired'"):
        cipher.decrypt(value, ROW_ID)


def test_value_under_a_reused_key_id_with_another_key_is_refused(cipher: TokenCipher) -> None:
    value = cipher_for(f"new:{OLD_KEY}").encrypt(TOKEN, ROW_ID)

    with pytest.raises(TokenDecryptionError, match="failed authentication"):
        cipher.decrypt(value, ROW_ID)


@pytest.mark.parametrize(
    "value",
    [
        "",
        "plain-token",
        "v1.new",
        "v1.new.AAAA.extra",
        "v2.new.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "v1.bad key.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "v1.new.not*base64",
        "v1.new.AAAA",
    ],
    ids=["empty", "unversioned", "two-parts", "four-parts", "version", "key-id", "base64", "too-short"],
)
def test_malformed_value_is_refused(cipher: TokenCipher, value: str) -> None:
    with pytest.raises(TokenDecryptionError):
        cipher.decrypt(value, ROW_ID)


def test_decryption_error_reveals_neither_token_nor_ciphertext(cipher: TokenCipher) -> None:
    value = cipher.encrypt(TOKEN, ROW_ID)

    with pytest.raises(TokenDecryptionError) as caught:
        cipher.decrypt(value, OTHER_ROW_ID)

    message = str(caught.value)
    assert TOKEN not in message
    assert value.rsplit(".", 1)[1] not in message
    assert NEW_KEY not in message


def test_ring_with_new_key_first_still_opens_values_under_the_old_key() -> None:
    old_value = cipher_for(f"old:{OLD_KEY}").encrypt(TOKEN, ROW_ID)
    rotated = cipher_for(f"new:{NEW_KEY},old:{OLD_KEY}")

    assert rotated.decrypt(old_value, ROW_ID) == TOKEN
    assert rotated.needs_rotation(old_value)


def test_value_under_the_current_key_needs_no_rotation() -> None:
    rotated = cipher_for(f"new:{NEW_KEY},old:{OLD_KEY}")

    assert not rotated.needs_rotation(rotated.encrypt(TOKEN, ROW_ID))


def test_reencrypt_moves_a_value_to_the_current_key() -> None:
    old_value = cipher_for(f"old:{OLD_KEY}").encrypt(TOKEN, ROW_ID)
    rotated = cipher_for(f"new:{NEW_KEY},old:{OLD_KEY}")

    moved = rotated.reencrypt(old_value, ROW_ID)

    assert rotated.key_id(moved) == "new"
    assert not rotated.needs_rotation(moved)
    assert cipher_for(f"new:{NEW_KEY}").decrypt(moved, ROW_ID) == TOKEN


def test_reencrypt_refuses_a_value_bound_to_another_row() -> None:
    old_value = cipher_for(f"old:{OLD_KEY}").encrypt(TOKEN, ROW_ID)
    rotated = cipher_for(f"new:{NEW_KEY},old:{OLD_KEY}")

    with pytest.raises(TokenDecryptionError):
        rotated.reencrypt(old_value, OTHER_ROW_ID)


def test_config_lists_keys_current_first_and_tolerates_spaces() -> None:
    ring = KeyRing.from_config(f" new : {NEW_KEY} , old:{OLD_KEY}\n")

    assert ring.current_key_id == "new"
    assert ring.key_ids == ("new", "old")


def test_config_accepts_keys_without_base64_padding() -> None:
    ring = KeyRing.from_config(f"new:{NEW_KEY.rstrip('=')}")

    assert ring.key_ids == ("new",)


def test_generated_keys_are_fresh_32_byte_keys() -> None:
    first, second = KeyRing.generate_key(), KeyRing.generate_key()

    assert first != second
    assert len(base64.urlsafe_b64decode(first)) == 32


SHORT_KEY = base64.urlsafe_b64encode(b"k" * 16).decode()
LONG_KEY = base64.urlsafe_b64encode(b"k" * 48).decode()
BAD_BASE64_KEY = NEW_KEY[:20] + "+/" + NEW_KEY[22:]


@pytest.mark.parametrize(
    ("config", "problem"),
    [
        ("", "holds no keys"),
        ("  \n", "holds no keys"),
        (f"new:{BAD_BASE64_KEY}", "key 'new' is not valid urlsafe base64"),
        (f"new:{NEW_KEY[:-2]}!!", "key 'new' is not valid urlsafe base64"),
        (f"new:{SHORT_KEY}", "key 'new' is 16 bytes; it must be 32"),
        (f"new:{LONG_KEY}", "key 'new' is 48 bytes; it must be 32"),
        (f"new:{NEW_KEY},new:{OLD_KEY}", "names key id 'new' more than once"),
        (f"new:{NEW_KEY},", "entry 2 is not of the form"),
        (NEW_KEY, "entry 1 is not of the form"),
        (f"{NEW_KEY}:{OLD_KEY}", "entry 1 has an invalid key id"),
        (f"new key:{NEW_KEY}", "entry 1 has an invalid key id"),
        (f"{'k' * 33}:{NEW_KEY}", "entry 1 has an invalid key id"),
    ],
    ids=[
        "empty",
        "blank",
        "standard-base64",
        "bad-characters",
        "short-key",
        "long-key",
        "duplicate-id",
        "empty-entry",
        "missing-id",
        "key-in-id-position",
        "space-in-id",
        "long-id",
    ],
)
def test_bad_config_is_refused_naming_the_problem_but_not_the_key(config: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem) as caught:
        KeyRing.from_config(config)

    message = str(caught.value)
    assert "ROOMLINK_TOKEN_KEYS" in message
    for key in (NEW_KEY, OLD_KEY, BAD_BASE64_KEY, SHORT_KEY, LONG_KEY):
        assert key not in message
        assert key[:12] not in message


def test_reprs_show_key_ids_but_never_keys() -> None:
    ring = KeyRing.from_config(f"new:{NEW_KEY},old:{OLD_KEY}")
    shown = repr(ring) + str(ring) + repr(TokenCipher(ring)) + str(TokenCipher(ring))

    assert "new" in shown and "old" in shown
    for key in (NEW_KEY, OLD_KEY):
        assert key not in shown
        assert repr(base64.urlsafe_b64decode(key)) not in shown
        assert base64.urlsafe_b64decode(key).hex() not in shown


def test_a_value_under_a_key_the_ring_lacks_is_a_missing_key_not_a_bad_value(cipher: TokenCipher) -> None:
    value = cipher_for(f"old:{OLD_KEY}").encrypt(TOKEN, ROW_ID)

    assert not cipher.holds_key_of(value)
    with pytest.raises(TokenKeyMissing, match="'old'"):
        cipher.decrypt(value, ROW_ID)
    assert cipher_for(f"new:{NEW_KEY},old:{OLD_KEY}").holds_key_of(value)
