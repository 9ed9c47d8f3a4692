"""DayTeacherDistillation: a training-only loss taught by a frozen
normal-light detector on synthetic night/day pairs of a corpus."""
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

from lowlight.datasets.converters import convert_exdark
from lowlight.datasets.night_sample import generate_night_sample
from lowlight.engine import CheckpointLoadError
from lowlight.models.distillation.day_teacher_distillation import \
    frozen_running_stats
from mmdet.registry import MODELS

PLAIN = ('configs/t2/ablations/'
         'plain_yolov3_mobilenetv2_1xb8-256-8e_night-sample.py')
DISTILLED = ('configs/t2/ablations/'
             't2-distill_yolov3_mobilenetv2_1xb8-256-8e_night-sample.py')


@pytest.fixture(scope='module')
def corpus(tmp_path_factory):
    """A converted day corpus of 4 train images of 96x72; its root."""
    root = str(tmp_path_factory.mktemp('corpus') / 'day')
    generate_night_sample(root, seed=5, num_train=4, num_val=1, num_test=1,
                          size=96, workers=1, kind='day')
    convert_exdark(root, root)
    return root + '/'


@pytest.fixture(scope='module')
def teacher_checkpoint(tmp_path_factory):
    """A plain detector's weights (random, seeded) as the teacher."""
    init_default_scope('mmdet')
    torch.manual_seed(0)
    teacher = MODELS.build(Config.fromfile(PLAIN).model)
    path = str(tmp_path_factory.mktemp('teacher') / 'teacher.pth')
    torch.save(dict(state_dict=teacher.state_dict()), path)
    return path


def _student(corpus, checkpoint):
    init_default_scope('mmdet')
    cfg = Config.fromfile(DISTILLED)
    distillation = cfg.model.distillation
    distillation.update(teacher_checkpoint=checkpoint, batch_size=2)
    distillation.pairs.data_root = corpus
    distillation.pairs.pipeline[1].scale = (64, 64)
    torch.manual_seed(1)
    return MODELS.build(cfg.model)


def test_builds_without_its_files_and_stays_out_of_the_state_dict():
    # the corpus and the teacher are read on the first training step only
    model = _student('/nonexistent/', '/nonexistent.pth')
    assert model.distillation is not None
    assert not any('teacher' in key for key in model.state_dict())
    with pytest.raises(CheckpointLoadError, match='nonexistent.pth'):
        model.distillation.loss(model, torch.device('cpu'))


def test_loss_trains_the_student_only_and_keeps_its_running_stats(
        corpus, teacher_checkpoint):
    model = _student(corpus, teacher_checkpoint)
    model.train()
    norms = [m for m in model.modules()
             if isinstance(m, torch.nn.BatchNorm2d)]
    before = [m.running_mean.clone() for m in norms]
    loss = model.distillation.loss(model, torch.device('cpu'))
    assert loss.dim() == 0 and torch.isfinite(loss) and loss > 0
    loss.backward()
    assert model.detector.backbone.backbone.conv1.conv.weight.grad.abs(
    ).sum() > 0
    # the pairs normalise with batch statistics but leave the running ones
    for norm, mean in zip(norms, before):
        torch.testing.assert_close(norm.running_mean, mean)
        assert norm.momentum == 0.1
    teacher = model.distillation._teacher
    assert not teacher.training
    assert not any(p.requires_grad for p in teacher.parameters())
    state = torch.load(teacher_checkpoint, weights_only=True)['state_dict']
    for key, value in teacher.state_dict().items():
        torch.testing.assert_close(value, state[key])
    # the next step draws other pairs
    assert model.distillation.loss(model, torch.device('cpu')) != loss


def test_frozen_running_stats_restores_the_momentum_on_error():
    norm = torch.nn.BatchNorm2d(2, momentum=0.3)
    with pytest.raises(RuntimeError):
        with frozen_running_stats(norm):
            assert norm.momentum == 0.0
            raise RuntimeError
    assert norm.momentum == 0.3


def test_a_pipeline_without_the_day_image_is_named(
        corpus, teacher_checkpoint):
    model = _student(corpus, teacher_checkpoint)
    model.distillation.pairs.pipeline.pop()  # no LowLightSynthesis
    with pytest.raises(KeyError, match="keep_original='day_img'"):
        model.distillation.loss(model, torch.device('cpu'))


def test_bad_arguments():
    with pytest.raises(ValueError, match='batch_size'):
        MODELS.build(dict(Config.fromfile(DISTILLED).model,
                          distillation=dict(teacher_config='a.py',
                                            teacher_checkpoint='a.pth',
                                            pairs=dict(), batch_size=0)))
