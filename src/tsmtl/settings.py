"""Kedro project settings."""

from kedro.config import OmegaConfigLoader

from tsmtl.hooks import SeedHook

HOOKS = (SeedHook(),)

CONFIG_LOADER_CLASS = OmegaConfigLoader
CONFIG_LOADER_ARGS = {
    "base_env": "base",
    "default_run_env": "local",
    "config_patterns": {
        "parameters": ["parameters*", "parameters*/**", "**/parameters*"],
    },
}
