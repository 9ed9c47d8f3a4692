# Ablation of T2 on the night sample: no semantic aggregation. The
# decomposition and the illumination guidance stay; the neck is YOLOv3's
# own. Same data and schedule as the T2 main-job config.
_base_ = ['../t2_yolov3_mobilenetv2_1xb8-256-8e_night-sample.py']

model = dict(
    detector=dict(neck=[
        {{_base_.yolov3_neck}}
    ]))
