import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from hhpnet.keypoints import normalize, validate_keypoints  # noqa: E402
from hhpnet.model import S_MIN, load_model  # noqa: E402
from hhpnet.training.nn import HHPNet, heteroscedastic_loss, wrap_residual  # noqa: E402

FACE = np.array(
    [[100, 120, 0.9], [115, 105, 0.9], [85, 105, 0.9], [135, 112, 0.8], [65, 112, 0.8]], np.float32
)


def inputs(n=400, seed=0):
    rng = np.random.default_rng(seed)
    kp = FACE[None].repeat(n, 0).copy()
    kp[..., :2] += rng.normal(0, 12, (n, 5, 2))
    kp[..., 2] = rng.uniform(0.05, 1, (n, 5))
    kp[rng.random((n, 5)) < 0.2] = 0
    x, valid = normalize(validate_keypoints(kp))
    return x[valid]


@pytest.mark.parametrize("alpha", [1.0, 0.6, 0.2])
def test_numpy_and_torch_agree(alpha, tmp_path):
    torch.manual_seed(1)
    net = HHPNet(alpha, c_mean=0.45, c_std=0.31)
    with torch.no_grad():  # random, non-trivial weights
        for p in net.parameters():
            p.normal_(0, 0.2)
    assert sum(p.numel() for p in net.parameters()) == {1.0: 94031, 0.6: 37231, 0.2: 6031}[alpha]
    x = inputs()
    ref = net.forward_degrees(torch.from_numpy(x)).detach().numpy()
    model = load_model(net.to_numpy_model({"name": "t"}).save(tmp_path / "w.safetensors"))
    got = model.forward(x)
    assert np.abs(ref).max() > 1.0
    # float32 throughout; compare in the network's internal units (degrees / 90)
    np.testing.assert_allclose(got / 90.0, ref / 90.0, atol=1e-5, rtol=1e-5)


def test_state_dict_names_are_the_weight_file_names():
    names = set(HHPNet(1.0).state_dict())
    assert names == set(load_model.__globals__["tensor_shapes"](1.0))


def test_wrapped_yaw_residual_does_not_punish_the_seam():
    net = HHPNet(0.2)
    out = torch.zeros(2, 6)
    out[:, 1::2] = -3.0
    out[:, 0] = torch.tensor([179.0, 10.0]) / 90.0
    target = torch.tensor([[-179.0, 0.0, 0.0], [-179.0, 0.0, 0.0]])
    _, per = heteroscedastic_loss(out[:1], target[:1], net.scale)
    _, far = heteroscedastic_loss(out[1:], target[1:], net.scale)
    assert per[0] < far[0]
    r = wrap_residual(torch.tensor([358.0, -358.0, 90.0]), 360.0)
    np.testing.assert_allclose(r.numpy(), [-2.0, 2.0, 90.0])


def test_loss_matches_the_formula_and_optimal_sigma():
    torch.manual_seed(0)
    target = torch.randn(2000, 3) * 20
    out = torch.zeros(2000, 6)
    s_deg = torch.tensor(2 * math.log(20.0))
    out[:, 1::2] = s_deg - 2 * math.log(90.0)
    total, per = heteroscedastic_loss(out, target, 90.0)
    r2 = (target / 90.0) ** 2
    expect = 0.5 * torch.exp(-(s_deg - 2 * math.log(90.0))) * r2 + 0.5 * (
        s_deg - 2 * math.log(90.0)
    )
    np.testing.assert_allclose(per.numpy(), expect.mean(0).numpy(), rtol=1e-5)
    # the loss is minimal in s at the true error level
    losses = []
    for sig in (5.0, 20.0, 80.0):
        out[:, 1::2] = 2 * math.log(sig / 90.0)
        losses.append(float(heteroscedastic_loss(out, target, 90.0)[0]))
    assert losses[1] < losses[0] and losses[1] < losses[2]
    assert total.shape == ()


def test_sigma_is_clipped_in_loss():
    out = torch.full((4, 6), -100.0, requires_grad=True)
    total, _ = heteroscedastic_loss(out, torch.zeros(4, 3), 90.0)
    assert torch.isfinite(total)
    assert total.item() >= 3 * 0.5 * (S_MIN - 2 * math.log(90.0)) - 1e-4


def test_init_sigma_and_gradient_step_reduces_loss():
    torch.manual_seed(0)
    net = HHPNet(0.2, init_sigma=10.0)
    x = torch.from_numpy(inputs(512))
    out = net.forward_degrees(x)
    np.testing.assert_allclose(torch.exp(out[:, 1::2] / 2).mean().item(), 10.0, rtol=0.3)
    y = torch.randn(len(x), 3) * 30
    opt = torch.optim.Adam(net.parameters(), lr=1e-2)
    first = heteroscedastic_loss(net(x), y)[0].item()
    for _ in range(50):
        loss, _ = heteroscedastic_loss(net(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert loss.item() < first
