# Baseline for ../t2/t2_faster-rcnn_r50-dcnv2_fpn_8xb2-ms-608-24e_darkface.py:
# the plain detector: no enhancer, no illumination guidance, no semantic
# aggregation; same data, schedule and code path (LowLightDetector in mode
# 'none', which also unwraps the illumination-guided backbone).
_base_ = ['../t2/t2_faster-rcnn_r50-dcnv2_fpn_8xb2-ms-608-24e_darkface.py']

model = dict(
    mode='none',
    detector=dict(
        neck=[
            dict(
                type='FPN',
                in_channels=[256, 512, 1024, 2048],
                out_channels=256,
                num_outs=5)
        ]))
