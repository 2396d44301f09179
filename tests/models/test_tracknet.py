"""TrackNet shapes, sizes, config round trips, preprocessing and a short overfit."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from balltrack.models import (
    InputSpec,
    TrackNetConfig,
    build_tracknet,
    config_from_dict,
    config_from_name,
    config_to_dict,
    count_parameters,
    frames_to_input,
    predict_heatmaps,
    resize_scale,
    to_model_pixels,
    to_source_pixels,
)
from balltrack.tracking.heatmaps import heatmap_targets, weighted_bce

# Small inputs keep shape tests fast; the network is fully convolutional.
H, W = 32, 64


@pytest.fixture(autouse=True)
def _one_torch_thread():
    """Tiny convolutions gain nothing from threads, and on a busy 2-CPU machine
    (tests run beside Ray workers) torch's spinning threads make them ~10x slower."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _input(cfg: TrackNetConfig, batch: int = 2) -> torch.Tensor:
    return torch.rand(batch, cfg.in_channels, H, W)


@pytest.mark.parametrize("name", ["tiny", "paper"])
@pytest.mark.parametrize("flags", [{}, {"background": True}, {"motion_attention": True}])
def test_output_shape(name, flags):
    cfg = config_from_name(name, **flags)
    model = build_tracknet(cfg)
    out = model(_input(cfg))
    assert out.shape == (2, cfg.out_frames, H, W)
    assert out.dtype == torch.float32
    probs = predict_heatmaps(model, _input(cfg))
    assert probs.shape == out.shape and float(probs.min()) >= 0 and float(probs.max()) <= 1
    assert model.training  # predict_heatmaps restores the mode


def test_in_channels():
    assert TrackNetConfig().in_channels == 9
    assert TrackNetConfig(background=True).in_channels == 12
    assert TrackNetConfig(in_frames=1, out_frames=1).in_channels == 3
    model = build_tracknet("tiny")
    with pytest.raises(ValueError, match="expects"):
        model(torch.rand(1, 12, H, W))


def test_parameter_counts():
    tiny = count_parameters(build_tracknet("tiny"))
    paper = count_parameters(build_tracknet("paper"))
    print(f"TrackNet parameters: tiny={tiny:,} paper={paper:,}")
    assert 100_000 <= tiny <= 500_000
    assert abs(paper - 11_300_000) <= 0.10 * 11_300_000
    assert paper == 11_330_307  # TrackNetV2's layout exactly; a change here is a change of architecture
    # The extras are cheap: a 3x3 conv for motion attention, one wider first conv for the background.
    assert count_parameters(build_tracknet(config_from_name("paper", motion_attention=True))) - paper < 100
    assert count_parameters(build_tracknet(config_from_name("paper", background=True))) - paper == 3 * 9 * 64


def test_divisibility_error_names_the_numbers():
    with pytest.raises(ValueError, match=r"8 .*height=100, width=512"):
        TrackNetConfig(height=100, width=512, depth=4)
    model = build_tracknet("tiny")
    with pytest.raises(ValueError, match=r"height=36, width=60"):
        model(torch.rand(1, 9, 36, 60))


def test_config_round_trip_and_errors():
    cfg = config_from_name("tiny", motion_attention=True)
    d = json.loads(json.dumps(config_to_dict(cfg)))
    assert config_from_dict(d) == cfg
    assert build_tracknet(d).config == cfg
    with pytest.raises(ValueError, match="unknown TrackNet preset"):
        config_from_name("huge")
    with pytest.raises(ValueError, match="unknown TrackNetConfig fields"):
        config_from_dict({**d, "dropout": 0.1})
    with pytest.raises(ValueError, match="motion_attention"):
        TrackNetConfig(in_frames=1, motion_attention=True)
    assert cfg.input_spec().channels == cfg.in_channels


def test_frames_to_input_channel_order():
    spec = InputSpec(width=4, height=2, in_frames=3)
    # Frame t, channel c holds the value 10*t + c + 1: every input channel is identifiable.
    frames = np.zeros((3, 2, 4, 3), np.uint8)
    for t in range(3):
        for c in range(3):
            frames[t, :, :, c] = 10 * t + c + 1
    x = frames_to_input(frames, spec)
    assert x.shape == (1, 9, 2, 4) and x.dtype == torch.float32
    expected = [(10 * t + c + 1) / 255 for t in range(3) for c in range(3)]
    assert torch.allclose(x[0, :, 0, 0], torch.tensor(expected))
    assert torch.allclose(x[0].amin(dim=(1, 2)), x[0].amax(dim=(1, 2)))  # constant per channel

    # Batched input, normalisation and the background channels last.
    spec_bg = InputSpec(width=4, height=2, in_frames=3, mean=(0.5, 0.5, 0.5), std=(0.25, 0.5, 1.0), background=True)
    bg = np.full((2, 4, 3), 255, np.uint8)
    xb = frames_to_input(np.stack([frames, frames]), spec_bg, background=bg)
    assert xb.shape == (2, 12, 2, 4)
    frame1 = [(11 / 255 - 0.5) / 0.25, (12 / 255 - 0.5) / 0.5, 13 / 255 - 0.5]
    assert torch.allclose(xb[1, 3:6, 0, 0], torch.tensor(frame1))
    assert torch.allclose(xb[0, 9:, 0, 0], torch.tensor([2.0, 1.0, 0.5]))


def test_frames_to_input_errors():
    spec = InputSpec(width=4, height=2, in_frames=3)
    with pytest.raises(ValueError, match="T, H, W"):
        frames_to_input(np.zeros((2, 2, 4, 3), np.uint8), spec)
    with pytest.raises(ValueError, match="uint8"):
        frames_to_input(np.zeros((3, 2, 4, 3), np.float32), spec)
    with pytest.raises(ValueError, match="background"):
        frames_to_input(np.zeros((3, 2, 4, 3), np.uint8), InputSpec(4, 2, 3, background=True))
    with pytest.raises(ValueError, match="background"):
        frames_to_input(np.zeros((3, 2, 4, 3), np.uint8), spec, background=np.zeros((2, 4, 3), np.uint8))
    assert InputSpec.from_dict(json.loads(json.dumps(spec.to_dict()))) == spec


def test_pixel_mapping_hand_computed_and_inverse():
    spec = InputSpec(width=512, height=288, in_frames=3)
    assert resize_scale(1280, 720, spec) == (0.4, 0.4)
    # x_src = (x_model + 0.5) * 1280 / 512 - 0.5: model pixel 0 covers source pixels -0.5..2.0.
    assert to_source_pixels(0.0, 0.0, 1280, 720, spec) == (0.75, 0.75)
    assert to_source_pixels(-0.5, 287.5, 1280, 720, spec) == (-0.5, 719.5)  # outer edges match
    assert to_model_pixels(0.75, 0.75, 1280, 720, spec) == (0.0, 0.0)
    assert to_model_pixels(639.5, 359.5, 1280, 720, spec) == (255.5, 143.5)  # the centre stays the centre

    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1921, 1000)
    y = rng.uniform(-1, 1081, 1000)
    xm, ym = to_model_pixels(x, y, 1920, 1080, spec)
    xs, ys = to_source_pixels(xm, ym, 1920, 1080, spec)
    np.testing.assert_allclose(xs, x, rtol=0, atol=1e-9)
    np.testing.assert_allclose(ys, y, rtol=0, atol=1e-9)
    xs2, _ = to_source_pixels(np.array([np.nan]), np.array([1.0]), 1920, 1080, spec)
    assert np.isnan(xs2[0])


def test_tiny_overfits_one_sample():
    """Gradients reach every layer: one sample is learned quickly."""
    torch.manual_seed(0)
    cfg = config_from_name("tiny", height=64, width=128)
    model = build_tracknet(cfg)
    x = torch.rand(1, cfg.in_channels, cfg.height, cfg.width)
    xy = torch.tensor([[[30.0, 20.0], [33.0, 22.0], [36.0, 24.0]]])
    target = heatmap_targets(xy, torch.ones(1, 3, dtype=torch.bool), cfg.height, cfg.width)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    losses = []
    for _ in range(30):
        opt.zero_grad()
        loss = weighted_bce(model(x), target)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert all(p.grad is not None for p in model.parameters())
    assert losses[-1] < 0.5 * losses[0], losses
