# Ablation: T2 without the log-reflectance side input of the backbone (the
# night-sample T2 before it was added; test AP@0.5 70.6, 3 seeds, in
# configs/t2/README.md).
_base_ = ['../t2_yolov3_mobilenetv2_1xb8-256-8e_night-sample.py']

model = dict(reflectance_side_input=False)
