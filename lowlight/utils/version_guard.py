"""Checks the versions of the core dependencies before mmdet is imported.

mmdet asserts its mmcv range deep inside its own ``__init__``; a user then
sees a stack trace instead of what to install. This module reads installed
versions from package metadata (without importing the packages) and raises
one error that names the package, the version found and the range lowlight
supports.
"""
from importlib import metadata

from packaging.specifiers import SpecifierSet
from packaging.version import Version

# distribution name -> supported range. Keep in step with setup.cfg.
SUPPORTED_VERSIONS = {
    # Every checkpoint is read with torch.load(weights_only=True); before
    # 2.6.0 a crafted file could still run code through it (CVE-2025-32434).
    'torch': '>=2.6',
    # mmdet 3.3.0 asserts mmcv < 2.2.0 at import.
    'mmcv': '>=2.0.0,<2.2.0',
    'mmengine': '>=0.10.0,<1.0.0',
    # our configs and code follow mmdet 3.3's APIs.
    'mmdet': '>=3.3.0,<3.4.0',
}


class DependencyVersionError(ImportError):
    """An installed dependency is missing or outside the supported range."""


def check_dependency_versions(supported=None):
    """Raise :class:`DependencyVersionError` if a dependency is unsupported.

    Args:
        supported (dict[str, str], optional): distribution name to version
            specifier. Defaults to :data:`SUPPORTED_VERSIONS`.

    Raises:
        DependencyVersionError: one message listing every package that is
            missing or whose version is outside its range.
    """
    supported = SUPPORTED_VERSIONS if supported is None else supported
    problems = []
    for name, spec in supported.items():
        try:
            found = metadata.version(name)
        except metadata.PackageNotFoundError:
            problems.append(f'{name} is not installed (lowlight needs '
                            f'{name}{spec})')
            continue
        # Local labels such as '+cpu' do not change compatibility.
        if Version(Version(found).public) not in SpecifierSet(spec):
            problems.append(f'{name} {found} is installed, but lowlight '
                            f'supports {name}{spec}')
    if problems:
        raise DependencyVersionError(
            'Unsupported dependency versions:\n  - ' + '\n  - '.join(problems) +
            '\nRun tools/install.sh, or install the supported versions '
            'listed in setup.cfg.')
