# Normal-light pretraining of the plain YOLOv3-MobileNetV2 (the night
# sample's COCO): the detector that every variant of the night-sample
# comparison and the main job fine-tune from. Same model, input size, batch
# and optimiser as the night-sample configs; the 2000 images of the day
# corpus, 6 epochs, validated on its 200 held-out images.
#   python tools/train.py configs/pretrain/yolov3_mobilenetv2_1xb8-256-6e_day-corpus.py
# Result, log and checksum of the published checkpoint:
# configs/pretrain/README.md.
_base_ = [
    '../t2/ablations/plain_yolov3_mobilenetv2_1xb8-256-8e_night-sample.py'
]

data_root = 'data/day_corpus/'
max_epochs = 6
train_dataloader = dict(dataset=dict(data_root=data_root))
val_dataloader = dict(dataset=dict(data_root=data_root))
test_dataloader = dict(
    dataset=dict(data_root=data_root, ann_file='annotations/exdark_val.json'))
train_cfg = dict(max_epochs=max_epochs, val_interval=2)
load_from = None  # pretraining starts from random weights
param_scheduler = [
    dict(type='LinearLR', start_factor=0.05, by_epoch=False, begin=0, end=50),
    dict(
        type='CosineAnnealingLR',
        eta_min_ratio=0.05,
        begin=0,
        end=max_epochs,
        by_epoch=True,
        convert_to_iter_based=True)
]
