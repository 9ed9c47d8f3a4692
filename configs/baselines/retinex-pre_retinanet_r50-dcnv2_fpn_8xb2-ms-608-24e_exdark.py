# Baseline for ../t2/t2_retinanet_r50-dcnv2_fpn_8xb2-ms-608-24e_exdark.py:
# the enhancer as plain pre-processing (the scheme T2 argues against): a
# frozen RetinexDecomposer gives its reflectance to the plain detector and
# its illumination is thrown away. Give it trained weights, e.g. from a T2
# run:
#   --cfg-options model.enhancer.init_cfg.type=Pretrained \
#       model.enhancer.init_cfg.checkpoint=PATH \
#       model.enhancer.init_cfg.prefix=enhancer.
_base_ = ['./retinanet_r50-dcnv2_fpn_8xb2-ms-608-24e_exdark.py']

model = dict(mode='preprocess', enhancer=dict(type='RetinexDecomposer'))
