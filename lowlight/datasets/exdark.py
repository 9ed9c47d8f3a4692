"""ExDark (Exclusively Dark) as an mmdet COCO-style dataset."""
from mmdet.datasets import CocoDataset
from mmdet.registry import DATASETS

#: the 12 ExDark classes in the official order (category ids 1..12)
EXDARK_CLASSES = ('Bicycle', 'Boat', 'Bottle', 'Bus', 'Car', 'Cat', 'Chair',
                  'Cup', 'Dog', 'Motorbike', 'People', 'Table')
#: ExDark lighting type id (1..10) -> name
EXDARK_LIGHTS = {
    1: 'Low',
    2: 'Ambient',
    3: 'Object',
    4: 'Single',
    5: 'Weak',
    6: 'Strong',
    7: 'Screen',
    8: 'Window',
    9: 'Shadow',
    10: 'Twilight'
}
#: ExDark In/Out column value -> name
EXDARK_IN_OUT = {1: 'indoor', 2: 'outdoor'}
#: ExDark Train/Val/Test column value -> split name
EXDARK_SPLITS = {1: 'train', 2: 'val', 3: 'test'}

#: image fields the ExDark converter adds to each COCO image record and
#: the dataset copies into every sample (add them to ``PackDetInputs``'s
#: ``meta_keys`` to see them in ``data_samples.metainfo``)
EXDARK_META_KEYS = ('light', 'light_name', 'in_out', 'image_class')


@DATASETS.register_module()
class ExDarkDataset(CocoDataset):
    """ExDark in the COCO format written by
    ``tools/dataset_converters/exdark.py``.

    Besides mmdet's ``CocoDataset`` fields, each data info carries the
    image's lighting type (``light``: 1-10, ``light_name``), ``in_out``
    (1 indoor, 2 outdoor) and its image-level class name
    (``image_class``), which ``LightingAwareVOCMetric`` uses for its
    per-lighting breakdown.
    """

    METAINFO = {
        'classes': EXDARK_CLASSES,
        'palette': [(255, 97, 0), (0, 201, 87), (176, 23, 31),
                    (138, 43, 226), (30, 144, 255), (255, 215, 0),
                    (0, 255, 255), (255, 20, 147), (50, 205, 50),
                    (255, 140, 0), (220, 20, 60), (128, 128, 0)],
        'lights': tuple(EXDARK_LIGHTS.values()),
    }

    def parse_data_info(self, raw_data_info: dict) -> dict:
        """Parse one image and its boxes, keeping the ExDark image fields.

        Args:
            raw_data_info (dict): ``raw_img_info`` and ``raw_ann_info``
                as loaded by ``CocoDataset``.

        Returns:
            dict: mmdet's data info plus ``light``, ``light_name``,
            ``in_out`` and ``image_class`` (None when the record lacks
            them, e.g. a plain COCO file).
        """
        data_info = super().parse_data_info(raw_data_info)
        img_info = raw_data_info['raw_img_info']
        for key in EXDARK_META_KEYS:
            data_info[key] = img_info.get(key)
        return data_info
