"""mmcv's compiled ops (built from source by tools/install.sh) run on CPU."""
import torch
from mmcv.ops import ModulatedDeformConv2dPack, RoIAlign, nms


def test_nms_keeps_the_expected_boxes():
    boxes = torch.tensor([[0., 0., 10., 10.], [1., 1., 10., 10.],
                          [20., 20., 30., 30.], [21., 21., 30., 30.]])
    scores = torch.tensor([0.9, 0.8, 0.7, 0.95])
    dets, keep = nms(boxes, scores, iou_threshold=0.5)
    assert keep.tolist() == [3, 0]
    assert torch.allclose(dets[:, 4], torch.tensor([0.95, 0.9]))


def test_dcnv2_forward_and_backward_on_cpu():
    torch.manual_seed(0)
    dcn = ModulatedDeformConv2dPack(4, 6, 3, padding=1, deform_groups=1)
    x = torch.randn(2, 4, 9, 11, requires_grad=True)
    out = dcn(x)
    assert out.shape == (2, 6, 9, 11)
    out.square().mean().backward()
    for grad in (x.grad, dcn.weight.grad, dcn.conv_offset.weight.grad):
        assert grad is not None and torch.isfinite(grad).all()
    assert x.grad.abs().sum() > 0


def test_dcnv2_with_zero_offsets_matches_plain_convolution():
    """DCNv2 initialises offsets to 0 and masks to 0.5 (sigmoid(0))."""
    torch.manual_seed(0)
    dcn = ModulatedDeformConv2dPack(3, 5, 3, padding=1)
    x = torch.randn(1, 3, 8, 8)
    expected = 0.5 * torch.nn.functional.conv2d(
        x, dcn.weight, bias=None, padding=1) + dcn.bias.view(1, -1, 1, 1)
    assert torch.allclose(dcn(x), expected, atol=1e-5)


def test_roi_align_on_cpu():
    """On a linear ramp f(y, x) = 6y + x, bilinear sampling is exact, so
    each bin's average is f at the bin centre."""
    feat = torch.arange(36.).view(1, 1, 6, 6)
    rois = torch.tensor([[0., 1., 1., 5., 5.]])
    out = RoIAlign((2, 2), spatial_scale=1.0, sampling_ratio=2,
                   aligned=False)(feat, rois)
    assert out.shape == (1, 1, 2, 2)
    assert torch.allclose(out.flatten(), torch.tensor([14., 16., 26., 28.]))
