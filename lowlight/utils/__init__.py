"""Small helpers shared across lowlight."""
from .version_guard import (SUPPORTED_VERSIONS, DependencyVersionError,
                            check_dependency_versions)

__all__ = [
    'SUPPORTED_VERSIONS', 'DependencyVersionError', 'check_dependency_versions'
]
