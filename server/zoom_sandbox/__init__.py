"""The Zoom sandbox: an in-memory stand-in for Zoom's OAuth, REST API and webhooks."""

from server.zoom_sandbox.app import (
    SandboxConfig,
    ZoomAppConfig,
    create_sandbox_app,
    mount_sandbox,
    sandbox_config_from_env,
)

__all__ = ["SandboxConfig", "ZoomAppConfig", "create_sandbox_app", "mount_sandbox", "sandbox_config_from_env"]
