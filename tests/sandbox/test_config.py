from __future__ import annotations

import pytest

from server.zoom_sandbox import SandboxConfig, sandbox_config_from_env
from tests.sandbox.flows import USER_APP


def test_the_demo_needs_no_environment():
    config = sandbox_config_from_env({})

    user_app, admin_app = config.apps
    assert (user_app.client_id, user_app.kind) == ("roomlink-user-app", "user_managed")
    assert (admin_app.client_id, admin_app.kind) == ("roomlink-admin-app", "admin_managed")
    assert user_app.redirect_uris == admin_app.redirect_uris == ("http://127.0.0.1:8000/oauth/zoom/callback",)
    assert user_app.client_secret != admin_app.client_secret
    assert user_app.webhook_secret_token != admin_app.webhook_secret_token
    assert (config.access_token_ttl_s, config.auto_approve, config.webhook_url) == (3600, False, None)
    assert config.daily_meeting_limit == 100


def test_every_setting_comes_from_the_environment():
    config = sandbox_config_from_env(
        {
            "ZOOM_USER_APP_CLIENT_ID": "u-id",
            "ZOOM_USER_APP_CLIENT_SECRET": "u-secret",
            "ZOOM_USER_APP_WEBHOOK_SECRET": "u-hook",
            "ZOOM_ADMIN_APP_CLIENT_ID": "a-id",
            "ZOOM_ADMIN_APP_CLIENT_SECRET": "a-secret",
            "ZOOM_ADMIN_APP_WEBHOOK_SECRET": "a-hook",
            "ROOMLINK_BASE_URL": "https://roomlink.example/",
            "ZOOM_SANDBOX_WEBHOOK_URL": "https://roomlink.example/webhooks/zoom",
            "ZOOM_SANDBOX_AUTO_APPROVE": "true",
            "ZOOM_SANDBOX_ACCESS_TOKEN_TTL_S": "120",
        }
    )

    user_app, admin_app = config.apps
    assert (user_app.client_id, user_app.client_secret, user_app.webhook_secret_token) == ("u-id", "u-secret", "u-hook")
    assert (admin_app.client_id, admin_app.client_secret, admin_app.webhook_secret_token) == (
        "a-id",
        "a-secret",
        "a-hook",
    )
    assert admin_app.redirect_uris == ("https://roomlink.example/oauth/zoom/callback",)
    assert config.webhook_url == "https://roomlink.example/webhooks/zoom"
    assert (config.auto_approve, config.access_token_ttl_s) == (True, 120)


@pytest.mark.parametrize(("value", "expected"), [("1", True), ("TRUE", True), ("0", False), ("no", False)])
def test_auto_approve_is_read_from_1_or_true(value, expected):
    assert sandbox_config_from_env({"ZOOM_SANDBOX_AUTO_APPROVE": value}).auto_approve is expected


def test_two_apps_cannot_share_a_client_id():
    with pytest.raises(ValueError):
        SandboxConfig(apps=(USER_APP, USER_APP))
