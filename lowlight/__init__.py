"""lowlight: low-light object detection (T2) as an MMDetection 3.x plugin.

Importing this package checks the versions of torch, mmcv, mmengine and
mmdet, then registers every public class into mmdet's registries (models,
datasets, transforms, metrics, hooks, visualizers). Configs load it with
``custom_imports = dict(imports=['lowlight'], allow_failed_imports=False)``.
"""
from .utils.version_guard import check_dependency_versions
from .version import __version__

check_dependency_versions()

from . import (apis, datasets, deployment, engine, evaluation, models,  # noqa: E402,F401,E501
               visualization)

__all__ = ['__version__']
