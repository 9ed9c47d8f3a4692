# Baseline for ../t2/t2_tood_r50_fpn_8xb2-ms-608-24e_exdark.py:
# the plain detector: no enhancer, no illumination guidance, no semantic
# aggregation; same data, schedule and code path (LowLightDetector in mode
# 'none', which also unwraps the illumination-guided backbone).
_base_ = ['../t2/t2_tood_r50_fpn_8xb2-ms-608-24e_exdark.py']

model = dict(
    mode='none',
    detector=dict(
        neck=[
            dict(
                type='FPN',
                in_channels=[512, 1024, 2048],
                out_channels=256,
                start_level=0,
                add_extra_convs='on_output',
                num_outs=5)
        ]))
