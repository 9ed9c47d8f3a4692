# Night-suited photometric augmentation through mmdet's Albu wrapper
# (albumentations 2.x names and arguments; 2.x only warns on bad arguments,
# so tests/test_datasets/test_albu_configs.py builds every Albu pipeline in
# configs/ with warnings turned into errors). Nothing here moves the image.
# Use it in a train pipeline after LoadAnnotations as {{_base_.night_albu}}
# (see night_sample_albu.py).
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
# Only the image goes to albumentations (keymap): the boxes stay as they
# are, and no bbox processor is needed (albumentations warns about a bbox
# processor that no transform uses).
night_albu = dict(
    type='Albu', transforms=night_albu_transforms, keymap={'img': 'image'})
