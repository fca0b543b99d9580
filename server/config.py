"""Configuration, read once from the environment."""

from __future__ import annotations

import hmac
import os
from collections.abc import Mapping

import msgspec


class ApiKey(msgspec.Struct, frozen=True):
    label: str
    secret: str

    def __repr__(self) -> str:
        return f"ApiKey(label={self.label!r})"


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    #: Public address of Roomlink, used in the links it hands out.
    base_url: str = "http://127.0.0.1:8000"
    api_keys: tuple[ApiKey, ...] = ()
    #: Seconds a launch link stays usable, and a session lasts.
    launch_link_ttl_s: int = 300
    session_ttl_s: int = 12 * 3600
    #: Secure cookies unless Roomlink is served over plain http (the demo).
    demo: bool = False

    def __repr__(self) -> str:
        return f"Settings(base_url={self.base_url!r}, api_keys={len(self.api_keys)} configured)"

    def find_api_key(self, presented: str) -> ApiKey | None:
        found = None
        for key in self.api_keys:
            if hmac.compare_digest(key.secret.encode(), presented.encode()):
                found = key
        return found

    @property
    def secure_cookies(self) -> bool:
        return self.base_url.startswith("https://")


def parse_api_keys(text: str) -> tuple[ApiKey, ...]:
    """`label:secret,label2:secret2`; a bare secret gets the label `key-N`."""
    keys = []
    for index, entry in enumerate(part.strip() for part in text.split(",")):
        if not entry:
            continue
        label, _, secret = entry.rpartition(":")
        if len(secret) < 16:
            raise ValueError(f"ROOMLINK_API_KEYS entry {index + 1} is shorter than 16 characters")
        keys.append(ApiKey(label=label or f"key-{index + 1}", secret=secret))
    return tuple(keys)


def settings_from_env(environ: Mapping[str, str] = os.environ) -> Settings:
    return Settings(
        base_url=environ.get("ROOMLINK_BASE_URL", "http://127.0.0.1:8000").rstrip("/"),
        api_keys=parse_api_keys(environ.get("ROOMLINK_API_KEYS", "")),
        launch_link_ttl_s=int(environ.get("ROOMLINK_LAUNCH_LINK_TTL_S", "300")),
        session_ttl_s=int(environ.get("ROOMLINK_SESSION_TTL_S", str(12 * 3600))),
        demo=environ.get("ROOMLINK_DEMO", "") == "1",
    )
