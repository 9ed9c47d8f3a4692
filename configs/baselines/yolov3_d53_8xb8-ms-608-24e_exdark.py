# Baseline for ../t2/t2_yolov3_d53_8xb8-ms-608-24e_exdark.py:
# the plain detector: no enhancer, no illumination guidance, no semantic
# aggregation; same data, schedule and code path (LowLightDetector in mode
# 'none', which also unwraps the illumination-guided backbone).
_base_ = ['../t2/t2_yolov3_d53_8xb8-ms-608-24e_exdark.py']

model = dict(
    mode='none',
    detector=dict(
        neck=[
            dict(
                type='YOLOV3Neck',
                num_scales=3,
                in_channels=[1024, 512, 256],
                out_channels=[512, 256, 128])
        ]))
