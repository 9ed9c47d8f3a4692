# The T2 wrapper shared by the t2_* model configs: the outer data
# preprocessor (RGB in [0, 1]), the enhancer, the mode and the backbone's
# normalisation (ImageNet RGB by default). Each t2_* config inherits this
# and adds `detector=...`.
model = dict(
    type='LowLightDetector',
    data_preprocessor=dict(
        type='DetDataPreprocessor',
        mean=[0, 0, 0],
        std=[255., 255., 255.],
        bgr_to_rgb=True,
        pad_size_divisor=32),
    mode='joint',  # 'joint' | 'frozen' | 'preprocess' | 'none'
    enhancer=dict(type='RetinexDecomposer'),
    enhancer_loss_weight=1.0,
    # gradient of the detection loss into the enhancer (0: own losses only)
    detection_grad_scale=1.0,
    detector_mean=[123.675, 116.28, 103.53],
    detector_std=[58.395, 57.12, 57.375])
