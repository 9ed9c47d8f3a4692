# T2 (faster-rcnn r50-dcnv2 fpn) on
# DARK FACE, fixed 5500/500 split (one class: face).
# YOLA protocol: multi-scale 320-608 training, 608 test size, 24 epochs
# of SGD at lr 1e-3 from COCO weights. Offline by design: pass a local
# COCO checkpoint of the plain detector with --cfg-options load_from=PATH
# (LowLightDetector maps plain mmdet keys onto `detector.`).
_base_ = [
    '../_base_/models/t2_faster-rcnn_r50-dcnv2_fpn.py',
    '../_base_/datasets/darkface.py',
    '../_base_/schedules/schedule_sgd-lr1e-3_24e.py',
    '../_base_/default_runtime.py',
]

model = dict(
    detector=dict(roi_head=dict(bbox_head=dict(num_classes=1))))
train_dataloader = dict(batch_size=2)
# total batch 16 (8 GPUs x 2); --auto-scale-lr adapts lr to yours
auto_scale_lr = dict(base_batch_size=16)
