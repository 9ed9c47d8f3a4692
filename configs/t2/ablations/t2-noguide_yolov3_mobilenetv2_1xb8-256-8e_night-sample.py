# Ablation of T2 on the night sample: no illumination guidance. The
# decomposition, the learnt correction I / L^a, the log R side input and the
# semantic aggregation stay; log L is not given to the backbone's stem.
# Same data and schedule as the T2 main-job config.
_base_ = ['../t2_yolov3_mobilenetv2_1xb8-256-8e_night-sample.py']

model = dict(reflectance_side_input=dict(with_illumination=False))
