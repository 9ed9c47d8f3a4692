# The config of the CPU main job (tools/run_main_job.sh): the batch-16 sample
# config with batch 8, i.e. twice the updates over the same images and
# compute. Chosen on the sample's val split (AP@0.5 0.257 vs 0.141 with
# batch 16, same 8 epochs, seed 0).
_base_ = './t2_yolov3_mobilenetv2_1xb16-256-8e_night-sample.py'

train_dataloader = dict(batch_size=8)
auto_scale_lr = dict(base_batch_size=8)
