#!/usr/bin/env python3
"""Independent reference for ptft's ResNet (numpy only, no torch) and a torchvision cross-check.

  resnet_reference.py make FILE --block basic|bottleneck --stem imagenet|small [--layers 2,1,1,1]
                      [--width 8] [--in-channels 3] [--classes 5] [--seed S]
      Writes a small ResNet state dict in torchvision's names as safetensors (written by hand):
      random convolution and fc weights, BatchNorm with random weight, bias and running
      statistics, num_batches_tracked int64.

  resnet_reference.py logits WEIGHTS INPUT
      Prints {"logits": [[...] per image]}: the eval-mode forward, in float64, of the ResNet in
      WEIGHTS on INPUT's tensor "x" (B, C, H, W). The architecture comes from the names alone:
      conv1 7x7 -> stride 2 + 3x3/2 max-pool (padding 1), 3x3 -> stride 1 without max-pool;
      conv3 present -> bottleneck (1x1, 3x3 with the stride, 1x1); the first block of stages 2..4
      has stride 2; downsample.0/.1 when present. BatchNorm eps 1e-5.

  resnet_reference.py torchvision WEIGHTS INPUT
      The same with torchvision itself: builds torchvision's ResNet for the names (resnet18-style
      constructor with the block counts; conv1/maxpool replaced for the small stem), loads
      WEIGHTS with load_state_dict(strict=True) and prints its eval-mode logits. Exit status 3
      when torch or torchvision cannot be imported.
"""
import argparse
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
from safetensors_np import read_safetensors, write_safetensors  # noqa: E402

EPS = 1e-5


# ------------------------------------------------------------------------------------------------
# make

def make(path, block, stem, layers, width, in_channels, classes, seed):
    rs = np.random.RandomState(seed)
    t = []

    def conv(name, cout, cin, k):
        std = np.sqrt(2.0 / (cin * k * k))
        t.append((name + ".weight", (rs.standard_normal((cout, cin, k, k)) * std).astype(np.float32)))

    def bn(name, c):
        t.append((name + ".weight", (1 + 0.3 * rs.standard_normal(c)).astype(np.float32)))
        t.append((name + ".bias", (0.2 * rs.standard_normal(c)).astype(np.float32)))
        t.append((name + ".running_mean", (0.3 * rs.standard_normal(c)).astype(np.float32)))
        t.append((name + ".running_var", rs.uniform(0.5, 2.0, c).astype(np.float32)))
        t.append((name + ".num_batches_tracked", np.array(rs.randint(1, 1000), dtype=np.int64)))

    conv("conv1", width, in_channels, 7 if stem == "imagenet" else 3)
    bn("bn1", width)
    expansion = 4 if block == "bottleneck" else 1
    cin = width
    for k, n in enumerate(layers):
        planes = width * 2 ** k
        for i in range(n):
            p = "layer%d.%d." % (k + 1, i)
            stride = 2 if k > 0 and i == 0 else 1
            if block == "bottleneck":
                conv(p + "conv1", planes, cin, 1)
                bn(p + "bn1", planes)
                conv(p + "conv2", planes, planes, 3)
                bn(p + "bn2", planes)
                conv(p + "conv3", planes * 4, planes, 1)
                bn(p + "bn3", planes * 4)
            else:
                conv(p + "conv1", planes, cin, 3)
                bn(p + "bn1", planes)
                conv(p + "conv2", planes, planes, 3)
                bn(p + "bn2", planes)
            if stride != 1 or cin != planes * expansion:
                conv(p + "downsample.0", planes * expansion, cin, 1)
                bn(p + "downsample.1", planes * expansion)
            cin = planes * expansion
    bound = 1 / np.sqrt(cin)
    t.append(("fc.weight", rs.uniform(-bound, bound, (classes, cin)).astype(np.float32)))
    t.append(("fc.bias", rs.uniform(-bound, bound, classes).astype(np.float32)))
    write_safetensors(path, t)


# ------------------------------------------------------------------------------------------------
# logits (numpy, float64)

def conv2d(x, w, stride, pad):
    """x (B, C, H, W), w (O, C, k, k) -> (B, O, Ho, Wo), zero padding, no bias."""
    B, C, H, W = x.shape
    k = w.shape[2]
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    Ho, Wo = (H + 2 * pad - k) // stride + 1, (W + 2 * pad - k) // stride + 1
    cols = np.empty((B, C, k, k, Ho, Wo))
    for i in range(k):
        for j in range(k):
            cols[:, :, i, j] = xp[:, :, i:i + stride * Ho:stride, j:j + stride * Wo:stride]
    return np.einsum("bcijhw,ocij->bohw", cols, w)


def max_pool_3x3_s2(x):
    """3x3 windows, stride 2, padding 1 (padded with -inf)."""
    B, C, H, W = x.shape
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)), constant_values=-np.inf)
    Ho, Wo = (H - 1) // 2 + 1, (W - 1) // 2 + 1
    out = np.full((B, C, Ho, Wo), -np.inf)
    for i in range(3):
        for j in range(3):
            out = np.maximum(out, xp[:, :, i:i + 2 * Ho:2, j:j + 2 * Wo:2])
    return out


def batch_norm(x, w, name):
    shape = (1, -1, 1, 1)
    mean, var = w[name + ".running_mean"].reshape(shape), w[name + ".running_var"].reshape(shape)
    return (x - mean) / np.sqrt(var + EPS) * w[name + ".weight"].reshape(shape) + w[name + ".bias"].reshape(shape)


def relu(x):
    return np.maximum(x, 0)


def stage_blocks(w):
    """[(stage index 1..4, block count)] from the names."""
    out = []
    for k in range(1, 5):
        n = 0
        while "layer%d.%d.conv1.weight" % (k, n) in w:
            n += 1
        out.append((k, n))
    return out


def logits(weights_path, input_path):
    w = {k: v.astype(np.float64) for k, v in read_safetensors(weights_path).items() if "num_batches" not in k}
    x = read_safetensors(input_path)["x"].astype(np.float64)
    k1 = w["conv1.weight"].shape[2]
    h = conv2d(x, w["conv1.weight"], 2 if k1 == 7 else 1, k1 // 2)
    h = relu(batch_norm(h, w, "bn1"))
    if k1 == 7:
        h = max_pool_3x3_s2(h)
    bottleneck = "layer1.0.conv3.weight" in w
    for k, n in stage_blocks(w):
        for i in range(n):
            p = "layer%d.%d." % (k, i)
            stride = 2 if k > 1 and i == 0 else 1
            if bottleneck:
                out = relu(batch_norm(conv2d(h, w[p + "conv1.weight"], 1, 0), w, p + "bn1"))
                out = relu(batch_norm(conv2d(out, w[p + "conv2.weight"], stride, 1), w, p + "bn2"))
                out = batch_norm(conv2d(out, w[p + "conv3.weight"], 1, 0), w, p + "bn3")
            else:
                out = relu(batch_norm(conv2d(h, w[p + "conv1.weight"], stride, 1), w, p + "bn1"))
                out = batch_norm(conv2d(out, w[p + "conv2.weight"], 1, 1), w, p + "bn2")
            if p + "downsample.0.weight" in w:
                shortcut = batch_norm(conv2d(h, w[p + "downsample.0.weight"], stride, 0), w, p + "downsample.1")
            else:
                shortcut = h
            h = relu(out + shortcut)
    pooled = h.mean(axis=(2, 3))  # (B, features)
    return pooled @ w["fc.weight"].T + w["fc.bias"]


# ------------------------------------------------------------------------------------------------
# torchvision

def torchvision_logits(weights_path, input_path):
    try:
        import torch
        import torchvision
    except Exception as e:  # noqa: BLE001 - any import failure means "not available"
        print("torchvision unavailable: %s" % e, file=sys.stderr)
        sys.exit(3)
    raw = read_safetensors(weights_path)
    sd = {k: torch.from_numpy(np.array(v)) for k, v in raw.items()}
    blocks = [n for _, n in stage_blocks(raw)]
    bottleneck = "layer1.0.conv3.weight" in raw
    block = torchvision.models.resnet.Bottleneck if bottleneck else torchvision.models.resnet.BasicBlock
    m = torchvision.models.resnet.ResNet(block, blocks, num_classes=raw["fc.weight"].shape[0])
    conv1 = raw["conv1.weight"]
    if conv1.shape[2] == 3:
        m.conv1 = torch.nn.Conv2d(conv1.shape[1], conv1.shape[0], 3, 1, 1, bias=False)
        m.maxpool = torch.nn.Identity()
    elif conv1.shape[1] != 3:
        m.conv1 = torch.nn.Conv2d(conv1.shape[1], conv1.shape[0], 7, 2, 3, bias=False)
    m.load_state_dict(sd, strict=True)
    m.eval()
    x = torch.from_numpy(np.array(read_safetensors(input_path)["x"])).float()
    with torch.no_grad():
        return m(x).double().numpy()


def main(argv):
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    mk = sub.add_parser("make")
    mk.add_argument("file")
    mk.add_argument("--block", choices=["basic", "bottleneck"], required=True)
    mk.add_argument("--stem", choices=["imagenet", "small"], required=True)
    mk.add_argument("--layers", default="1,1,1,1")
    mk.add_argument("--width", type=int, default=8)
    mk.add_argument("--in-channels", type=int, default=3)
    mk.add_argument("--classes", type=int, default=5)
    mk.add_argument("--seed", type=int, default=0)
    for name in ("logits", "torchvision"):
        p = sub.add_parser(name)
        p.add_argument("weights")
        p.add_argument("input")
    a = ap.parse_args(argv)
    if a.cmd == "make":
        make(a.file, a.block, a.stem, [int(n) for n in a.layers.split(",")], a.width, a.in_channels, a.classes, a.seed)
        return 0
    out = logits(a.weights, a.input) if a.cmd == "logits" else torchvision_logits(a.weights, a.input)
    print(json.dumps({"logits": out.tolist()}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
