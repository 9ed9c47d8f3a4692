"""Version of the lowlight package."""
__version__ = '0.1.0'
