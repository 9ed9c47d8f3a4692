# The embedded night sample with the night photometric augmentation
# (night_albu.py) in the train pipeline.
_base_ = ['./night_sample.py', './night_albu.py']

train_pipeline = [
    dict(type='LoadImageFromFile', backend_args=None),
    dict(type='LoadAnnotations', with_bbox=True),
    {{_base_.night_albu}},
    dict(type='Resize', scale={{_base_.img_scale}}, keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs', meta_keys={{_base_.meta_keys}})
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
