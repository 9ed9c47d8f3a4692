"""Small helpers shared across lowlight."""
from .file_io import (atomic_dir, atomic_dump_json, atomic_path,
                      atomic_write_text)
from .version_guard import (SUPPORTED_VERSIONS, DependencyVersionError,
                            check_dependency_versions)

__all__ = [
    'SUPPORTED_VERSIONS', 'DependencyVersionError',
    'check_dependency_versions', 'atomic_dir', 'atomic_dump_json',
    'atomic_path', 'atomic_write_text'
]
