"""Load a script under ``tools/`` as a module (``tools/`` is no package)."""
import importlib.util
import os.path as osp

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))


def load_tool(name: str):
    """``tools/<name>.py`` (e.g. ``'train'``, ``'misc/darken'``) executed as
    a new module."""
    spec = importlib.util.spec_from_file_location(
        'lowlight_tool_' + name.replace('/', '_'),
        osp.join(REPO, 'tools', f'{name}.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
