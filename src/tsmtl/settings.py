"""Kedro project settings."""

import warnings

from kedro.config import OmegaConfigLoader

from tsmtl.hooks import ConsoleHook, DistributedOutputsHook, SeedHook, create_log_folders
from tsmtl.tracking import KEDRO_MLFLOW_PLUGIN, tracking_hooks

# Third-party warnings every run would print and no user can act on (issue #11, Console): each
# filtered by its message and the module that issues it, never a whole category.
THIRD_PARTY_WARNINGS = (
    # Kedro 1.7's OmegaConfigLoader calls OmegaConf.register_new_resolver (4 times a run).
    (r"register_new_resolver\(\) is deprecated", UserWarning, r"kedro\.config\.omegaconf_config"),
)
for message, category, module in THIRD_PARTY_WARNINGS:
    warnings.filterwarnings("ignore", message=message, category=category, module=module)

create_log_folders()  # logs/ for conf/logging.yml's file handler (missing in a fresh copy)

HOOKS = (SeedHook(), DistributedOutputsHook(), ConsoleHook(), *tracking_hooks())  # tracking: TSMTL_TRACKING=1 (tsmtl.tracking)
DISABLE_HOOKS_FOR_PLUGINS = KEDRO_MLFLOW_PLUGIN  # installed kedro-mlflow opens no run unless tracking is enabled

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
