# T2 (retinanet r50-dcnv2 fpn) on
# ExDark, official split (3000 train / 1800 val / 2563 test).
# YOLA protocol: multi-scale 320-608 training, 608 test size, 24 epochs
# of SGD at lr 1e-3 from COCO weights. Offline by design: pass a local
# COCO checkpoint of the plain detector with --cfg-options load_from=PATH
# (LowLightDetector maps plain mmdet keys onto `detector.`).
_base_ = [
    '../_base_/models/t2_retinanet_r50-dcnv2_fpn.py',
    '../_base_/datasets/exdark_official.py',
    '../_base_/schedules/schedule_sgd-lr1e-3_24e.py',
    '../_base_/default_runtime.py',
]

train_dataloader = dict(batch_size=2)
# total batch 16 (8 GPUs x 2); --auto-scale-lr adapts lr to yours
auto_scale_lr = dict(base_batch_size=16)
