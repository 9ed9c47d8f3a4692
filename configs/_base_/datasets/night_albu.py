# Night-suited photometric augmentation through mmdet's Albu wrapper
# (albumentations 2.x names and arguments; 2.x only warns on bad arguments,
# so tests/test_datasets/test_albu_configs.py builds every Albu pipeline in
# configs/ with warnings turned into errors). Nothing here moves the image,
# so the boxes pass through unchanged. Use it in a train pipeline after
# LoadAnnotations as {{_base_.night_albu}} (see night_sample_albu.py).
# (custom_imports and default_scope come from ../default_runtime.py: a key
# defined in two bases of one config is an error in mmengine)

night_albu_transforms = [
    # sensor noise of high ISO: colour speckle plus luminance grain
    dict(type='ISONoise', color_shift=(0.01, 0.05), intensity=(0.1, 0.5),
         p=0.3),
    # hand-held long exposure
    dict(type='MotionBlur', blur_limit=(3, 7), p=0.2),
    # other tone curves and exposure
    dict(type='RandomGamma', gamma_limit=(70, 130), p=0.3),
    dict(type='RandomBrightnessContrast', brightness_limit=(-0.2, 0.1),
         contrast_limit=(-0.2, 0.1), p=0.3),
    # compression blocks of dashcam and phone footage
    dict(type='ImageCompression', compression_type='jpeg',
         quality_range=(40, 90), p=0.3),
]
night_albu = dict(
    type='Albu',
    transforms=night_albu_transforms,
    bbox_params=dict(
        type='BboxParams',
        format='pascal_voc',
        label_fields=['gt_bboxes_labels', 'gt_ignore_flags'],
        min_visibility=0.0,
        filter_lost_elements=True,
        clip=True),
    keymap={
        'img': 'image',
        'gt_bboxes': 'bboxes'
    },
    skip_img_without_anno=True)
