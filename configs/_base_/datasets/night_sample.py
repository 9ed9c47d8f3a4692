# The embedded night sample: a procedurally rendered night set in the raw
# ExDark layout, converted like the real ExDark (see data/README.md):
#   python tools/misc/make_night_sample.py data/night_sample
#   python tools/dataset_converters/exdark.py data/night_sample \
#       data/night_sample
# 400 train / 100 val / 200 test images of 320x240; classes Bicycle, Bottle,
# Car, Chair, People (the model keeps all 12 ExDark classes); lighting types
# Low, Ambient, Single, Strong, Window, Twilight.
# Everything else (dataset type, annotation files, meta keys with the
# lighting fields, the lighting-aware evaluator) as in exdark_official.py.
_base_ = './exdark_official.py'

data_root = 'data/night_sample/'
img_scale = (320, 320)

train_pipeline = [
    dict(type='LoadImageFromFile', backend_args=None),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='Resize', scale=img_scale, keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs', meta_keys={{_base_.meta_keys}})
]
test_pipeline = [
    dict(type='LoadImageFromFile', backend_args=None),
    dict(type='Resize', scale=img_scale, keep_ratio=True),
    # after Resize: the metric compares with boxes in original coordinates
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='PackDetInputs', meta_keys={{_base_.meta_keys}})
]
train_dataloader = dict(
    dataset=dict(data_root=data_root, pipeline=train_pipeline))
val_dataloader = dict(
    dataset=dict(data_root=data_root, pipeline=test_pipeline))
test_dataloader = dict(
    dataset=dict(data_root=data_root, pipeline=test_pipeline))
