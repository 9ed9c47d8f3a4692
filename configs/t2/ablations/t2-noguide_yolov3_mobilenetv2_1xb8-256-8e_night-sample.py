# Ablation of T2 on the night sample: no illumination guidance. The
# decomposition and the semantic aggregation stay; the backbone sees R only
# (IlluminationGuidedBackbone in mode 'none'). Same data and schedule as the
# T2 main-job config.
_base_ = ['../t2_yolov3_mobilenetv2_1xb8-256-8e_night-sample.py']

model = dict(detector=dict(backbone=dict(mode='none')))
