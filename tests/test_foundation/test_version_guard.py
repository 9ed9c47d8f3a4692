"""The import-time version guard names the package, version and range."""
from importlib import metadata

import pytest

from lowlight.utils import version_guard
from lowlight.utils.version_guard import (SUPPORTED_VERSIONS,
                                          DependencyVersionError,
                                          check_dependency_versions)


def test_installed_versions_are_supported():
    check_dependency_versions()


def _fake_versions(monkeypatch, overrides):
    real_version = metadata.version

    def fake_version(name):
        if name in overrides:
            if overrides[name] is None:
                raise metadata.PackageNotFoundError(name)
            return overrides[name]
        return real_version(name)

    monkeypatch.setattr(version_guard.metadata, 'version', fake_version)


def test_unsupported_mmcv_names_package_version_and_range(monkeypatch):
    _fake_versions(monkeypatch, {'mmcv': '2.2.0'})
    with pytest.raises(DependencyVersionError) as info:
        check_dependency_versions()
    message = str(info.value)
    assert 'mmcv 2.2.0 is installed' in message
    assert 'mmcv' + SUPPORTED_VERSIONS['mmcv'] in message
    # Only the offending package is reported.
    assert 'mmdet ' not in message and 'torch ' not in message


def test_every_problem_is_listed_once(monkeypatch):
    _fake_versions(monkeypatch, {'mmdet': '3.2.0', 'mmengine': None})
    with pytest.raises(DependencyVersionError) as info:
        check_dependency_versions()
    message = str(info.value)
    assert 'mmdet 3.2.0 is installed, but lowlight supports mmdet>=3.3.0' \
        in message
    assert 'mmengine is not installed' in message
    assert message.count('\n  - ') == 2


def test_local_version_label_is_accepted(monkeypatch):
    _fake_versions(monkeypatch, {'torch': '2.13.0+cpu'})
    check_dependency_versions()


def test_guard_raises_on_import_before_mmdet_asserts(tmp_path):
    """A fresh interpreter importing lowlight with a too-new mmcv gets our
    error, not mmdet's AssertionError."""
    import subprocess
    import sys
    code = (
        'from importlib import metadata\n'
        'real = metadata.version\n'
        'metadata.version = lambda n: "2.2.0" if n == "mmcv" else real(n)\n'
        'import lowlight\n')
    proc = subprocess.run([sys.executable, '-c', code],
                          capture_output=True, text=True)
    assert proc.returncode != 0
    assert 'DependencyVersionError' in proc.stderr
    assert 'mmcv 2.2.0 is installed, but lowlight supports mmcv' in proc.stderr
    assert 'AssertionError' not in proc.stderr
