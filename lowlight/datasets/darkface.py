"""DARK FACE as an mmdet COCO-style dataset."""
from mmdet.datasets import CocoDataset
from mmdet.registry import DATASETS


@DATASETS.register_module()
class DarkFaceDataset(CocoDataset):
    """DARK FACE (one class, ``face``) in the COCO format written by
    ``tools/dataset_converters/darkface.py``.

    DARK FACE has no lighting-type or indoor/outdoor labels, so
    ``LightingAwareVOCMetric`` reports only the overall and per-class
    results on it.
    """

    METAINFO = {'classes': ('face', ), 'palette': [(255, 215, 0)]}
