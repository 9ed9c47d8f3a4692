"""lowlight is an mmdet plugin: its classes live in mmdet's registries."""
import inspect
import subprocess
import sys
import textwrap

import lowlight
from mmdet import registry

# Which registry a public class must be found in, by its base class.
_REGISTRY_OF_BASE = [
    ('mmengine.model.BaseModule', registry.MODELS),
    ('torch.nn.Module', registry.MODELS),
    ('mmengine.dataset.BaseDataset', registry.DATASETS),
    ('mmcv.transforms.BaseTransform', registry.TRANSFORMS),
    ('mmengine.evaluator.BaseMetric', registry.METRICS),
    ('mmengine.hooks.Hook', registry.HOOKS),
    ('mmengine.visualization.Visualizer', registry.VISUALIZERS),
    ('mmengine.runner.Runner', registry.RUNNERS),
]


def _resolve(dotted):
    module, name = dotted.rsplit('.', 1)
    return getattr(__import__(module, fromlist=[name]), name)


def _public_classes():
    for subpackage in ('models', 'datasets', 'evaluation', 'engine',
                       'visualization', 'apis'):
        module = getattr(lowlight, subpackage)
        for name in getattr(module, '__all__', []):
            obj = getattr(module, name)
            if inspect.isclass(obj):
                yield f'lowlight.{subpackage}.{name}', obj


def test_version_is_exposed():
    assert isinstance(lowlight.__version__, str)
    assert lowlight.__version__.count('.') == 2


def test_every_public_class_is_registered_under_its_own_name():
    checked = 0
    for qualname, cls in _public_classes():
        for base, reg in _REGISTRY_OF_BASE:
            if issubclass(cls, _resolve(base)):
                if inspect.isabstract(cls) or \
                        getattr(cls, '__abstract_interface__', False):
                    break
                assert reg.get(cls.__name__) is cls, \
                    f'{qualname} is not in mmdet {reg.name} registry'
                checked += 1
                break
    # The T2 model alone has five registered modules.
    assert checked >= 5


def test_core_names_are_registered():
    for name in ('RetinexDecomposer', 'ZeroDCEDecomposer',
                 'IlluminationGuidedBackbone', 'SemanticAggregationNeck',
                 'LowLightDetector'):
        assert registry.MODELS.get(name) is not None, name
    assert registry.DATASETS.get('ExDarkDataset') is not None
    assert registry.DATASETS.get('DarkFaceDataset') is not None
    assert registry.TRANSFORMS.get('LowLightSynthesis') is not None
    assert registry.METRICS.get('LightingAwareVOCMetric') is not None


def test_custom_imports_config_builds_in_a_fresh_process(tmp_path):
    """Plain mmengine/mmdet code, never importing lowlight itself, builds
    lowlight modules from a config that names the plugin."""
    config = tmp_path / 'plugin_cfg.py'
    config.write_text(textwrap.dedent("""
        custom_imports = dict(imports=['lowlight'], allow_failed_imports=False)
        default_scope = 'mmdet'
        model = dict(type='RetinexDecomposer')
        """))
    script = textwrap.dedent(f"""
        import sys
        from mmengine.config import Config
        from mmengine.registry import init_default_scope
        from mmdet.registry import MODELS
        assert 'lowlight' not in sys.modules
        cfg = Config.fromfile({str(config)!r})
        assert 'lowlight' in sys.modules
        init_default_scope(cfg.default_scope)
        model = MODELS.build(cfg.model)
        print(type(model).__module__, type(model).__name__)
        """)
    proc = subprocess.run([sys.executable, '-c', script],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    module, name = proc.stdout.split()
    assert module.startswith('lowlight.models.enhancers.')
    assert name == 'RetinexDecomposer'
