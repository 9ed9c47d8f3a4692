# DARK FACE, the usual fixed 5500/500 split of the 6000 labelled images
# (seed 0):
#   python tools/dataset_converters/darkface.py data/darkface data/darkface
# Same YOLA-protocol pipelines as ExDark (multi-scale 320-608, 608 test).
# DARK FACE has no lighting labels: the metric reports overall results (the
# lighting meta keys are simply absent from its samples).
_base_ = './exdark_official.py'

dataset_type = 'DarkFaceDataset'
data_root = 'data/darkface/'

train_dataloader = dict(
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='annotations/darkface_train.json',
        filter_cfg=dict(filter_empty_gt=True, min_size=2)))
val_dataloader = dict(
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='annotations/darkface_val.json'))
test_dataloader = val_dataloader
