"""mmdet's own analysis tools (shipped inside the installed mmdet) on our
configs, with lowlight loaded only through the config's custom_imports."""
import os.path as osp
import subprocess
import sys

import mmdet
import pytest
from tiny_loader_options import tiny_loader_options

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
SAMPLE = osp.join(REPO, 'configs', 't2',
                  't2_yolov3_mobilenetv2_1xb8-256-8e_night-sample.py')
MMDET_TOOLS = osp.join(osp.dirname(mmdet.__file__), '.mim', 'tools')


def _run(tool, *args, cwd):
    path = osp.join(MMDET_TOOLS, tool)
    if not osp.exists(path):
        pytest.skip(f'this mmdet install does not ship tools/{tool}')
    return subprocess.run([sys.executable, path, SAMPLE, *args],
                          capture_output=True,
                          text=True,
                          cwd=cwd)


def test_print_config_get_flops_and_browse_dataset(tiny_night_sample,
                                                   tmp_path):
    options = ['--cfg-options', *tiny_loader_options(tiny_night_sample, 64)]
    printed = _run('misc/print_config.py', *options, cwd=tmp_path)
    assert printed.returncode == 0, printed.stderr[-3000:]
    assert "type='LowLightDetector'" in printed.stdout

    flops = _run('analysis_tools/get_flops.py', '--num-images', '1',
                 *options, cwd=tmp_path)
    assert flops.returncode == 0, flops.stderr[-3000:]
    assert 'Flops:' in flops.stdout and 'Params:' in flops.stdout

    # builds the config's visualizer without a name (it failed with
    # "get_instance() missing 1 required positional argument: 'name'")
    out = tmp_path / 'browse'
    browsed = _run('analysis_tools/browse_dataset.py', '--output-dir',
                   str(out), '--not-show', *options, cwd=tmp_path)
    assert browsed.returncode == 0, browsed.stderr[-3000:]
    assert len(list(out.iterdir())) == 4  # the 4 train images, drawn


def test_unnamed_visualizers_are_distinct_and_named_ones_shared():
    from mmdet.registry import VISUALIZERS
    import lowlight  # noqa: F401
    first, second = (VISUALIZERS.build(dict(type='LowLightVisualizer'))
                     for _ in range(2))
    assert first is not second
    named = VISUALIZERS.build(
        dict(type='LowLightVisualizer', name='lowlight_test_vis'))
    assert VISUALIZERS.build(
        dict(type='LowLightVisualizer', name='lowlight_test_vis')) is named
