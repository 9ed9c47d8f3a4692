# Baseline of the T2 comparison on the night sample: the plain YOLOv3-
# MobileNetV2 (no enhancer, no guidance, no aggregation) through
# LowLightDetector's mode 'none', so the image is normalised exactly as in
# T2. Same data and schedule as the T2 main-job config.
_base_ = ['../t2_yolov3_mobilenetv2_1xb8-256-8e_night-sample.py']

model = dict(
    mode='none',
    detector=dict(
        backbone=dict(
            _delete_=True,
            type='TruncatedMobileNetV2',
            out_indices=(2, 4, 6),
            act_cfg=dict(type='LeakyReLU', negative_slope=0.1),
            init_cfg=None),
        neck=[
            {{_base_.yolov3_neck}}
        ]))
