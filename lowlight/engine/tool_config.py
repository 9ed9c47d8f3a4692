"""Config loading shared by tools/train.py and tools/test.py."""
import os.path as osp
from typing import Optional

from mmengine.config import Config

#: Runner used when a config names none: loads checkpoints weights-only.
DEFAULT_RUNNER = 'mmdet.LowLightRunner'


def load_tool_config(config: str,
                     launcher: str = 'none',
                     cfg_options: Optional[dict] = None,
                     work_dir: Optional[str] = None) -> Config:
    """Load a config as mmdet's train/test scripts do, with our runner.

    Args:
        config (str): Config file path.
        launcher (str): Job launcher (``'none'``, ``'pytorch'``, ...).
            Defaults to 'none'.
        cfg_options (dict, optional): ``--cfg-options`` overrides.
        work_dir (str, optional): ``--work-dir``; without it the config's
            own ``work_dir``, else ``./work_dirs/<config stem>``.

    Returns:
        Config: The config, with ``runner_type`` defaulting to
        ``LowLightRunner`` so that every checkpoint is loaded weights-only.
    """
    cfg = Config.fromfile(config)
    cfg.setdefault('runner_type', DEFAULT_RUNNER)
    cfg.launcher = launcher
    if cfg_options is not None:
        cfg.merge_from_dict(cfg_options)
    if work_dir is not None:
        cfg.work_dir = work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(config))[0])
    return cfg
