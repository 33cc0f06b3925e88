"""Kedro project settings."""

from kedro.config import OmegaConfigLoader

from tsmtl.hooks import DistributedOutputsHook, SeedHook

HOOKS = (SeedHook(), DistributedOutputsHook())

CONFIG_LOADER_CLASS = OmegaConfigLoader
CONFIG_LOADER_ARGS = {
    "base_env": "base",
    "default_run_env": "local",
    "config_patterns": {
        "parameters": ["parameters*", "parameters*/**", "**/parameters*"],
    },
}


def _tsmtl_data_dir() -> str:
    """``${tsmtl_data_dir:}`` in catalog files: ``$TSMTL_DATA_DIR`` or ``../shared/data``."""
    from tsmtl.config import data_dir

    return str(data_dir())


CONFIG_LOADER_ARGS["custom_resolvers"] = {"tsmtl_data_dir": _tsmtl_data_dir}
