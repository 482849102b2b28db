#!/usr/bin/python3
"""PyTorch-eager peer of `ptft pretrain` on a ResNet, for bench/vision_train_bench.sh.

The same network as ptft's src/models/resnet.cpp (torchvision's ResNet: basic or bottleneck v1.5
blocks, imagenet stem 7x7/2 + max-pool or small stem 3x3/1, BatchNorm eps 1e-5 momentum 0.1,
widths width*2^k), written the way PyTorch users write it, with any width (torchvision's class
fixes 64). One training step is ptft's classification step: mean cross-entropy of fp32 logits,
backward, global grad-norm clip to 1.0, torch.optim.AdamW (lr 3e-4, betas 0.9/0.95, eps 1e-8,
weight decay 0.1 on every tensor of 2+ dimensions, as ptft's default_param_groups), grads set to
None. Batches are random images and labels made before each step's timer starts (ptft's come
from its data loader on another thread, augmentation included).

PyTorch users' two CPU speed switches, so that the bench can time the peer's fastest mode:
--precision bf16 runs the forward under torch.autocast("cpu", bfloat16) (the loss on fp32
logits), --memory-format channels_last converts the model and each batch to NHWC (oneDNN then
convolves without reordering).

  /usr/bin/python3 bench/peers/resnet_train_peer.py --preset configs/models/resnet-fmnist.yaml \
      --image-size 28 --channels 1 --classes 10 --batch-size 128 --steps 10 --warmup-steps 3 --threads 2
  -> {"images_per_s": ..., "step_ms": ..., "peak_rss_mb": ..., "params": ...}
"""
import argparse
import json
import resource
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F
import yaml


def read_preset(path, channels, classes):
    with open(path) as f:
        cfg = yaml.safe_load(f)
    if cfg.get("family") != "resnet":
        sys.exit(f"resnet_train_peer: {path}: family is {cfg.get('family')!r}, expected resnet")
    out = dict(block="basic", layers=[2, 2, 2, 2], width=64, in_channels=3, num_classes=1000, stem="imagenet",
               dropout=0.0, image_size=0)
    for k, v in cfg.items():
        if k == "family":
            continue
        if k not in out:
            sys.exit(f"resnet_train_peer: {path}: key {k!r} is not modelled by this peer")
        out[k] = v
    if out["dropout"]:
        sys.exit(f"resnet_train_peer: {path}: dropout > 0 is not modelled by this peer")
    out["in_channels"], out["num_classes"] = channels, classes
    return out


def conv_bn(cin, cout, k, stride):
    return nn.Conv2d(cin, cout, k, stride, k // 2, bias=False), nn.BatchNorm2d(cout)


class Block(nn.Module):
    def __init__(self, cin, planes, stride, bottleneck):
        super().__init__()
        self.bottleneck = bottleneck
        out = planes * (4 if bottleneck else 1)
        if bottleneck:
            self.conv1, self.bn1 = conv_bn(cin, planes, 1, 1)
            self.conv2, self.bn2 = conv_bn(planes, planes, 3, stride)
            self.conv3, self.bn3 = conv_bn(planes, out, 1, 1)
        else:
            self.conv1, self.bn1 = conv_bn(cin, planes, 3, stride)
            self.conv2, self.bn2 = conv_bn(planes, planes, 3, 1)
        self.downsample = nn.Sequential(*conv_bn(cin, out, 1, stride)) if stride != 1 or cin != out else None

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        if self.bottleneck:
            y = self.bn3(self.conv3(F.relu(y)))
        return F.relu(y + (self.downsample(x) if self.downsample is not None else x))


class ResNet(nn.Module):
    def __init__(self, c):
        super().__init__()
        w, bottleneck = c["width"], c["block"] == "bottleneck"
        small = c["stem"] == "small"
        self.conv1, self.bn1 = conv_bn(c["in_channels"], w, 3 if small else 7, 1 if small else 2)
        self.maxpool = nn.Identity() if small else nn.MaxPool2d(3, 2, 1)
        stages, cin = [], w
        for k, n in enumerate(c["layers"]):
            planes = w << k
            blocks = []
            for i in range(n):
                blocks.append(Block(cin, planes, 2 if (i == 0 and k > 0) else 1, bottleneck))
                cin = planes * (4 if bottleneck else 1)
            stages.append(nn.Sequential(*blocks))
        self.layer1, self.layer2, self.layer3, self.layer4 = stages
        self.fc = nn.Linear(cin, c["num_classes"])
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def forward(self, x):
        x = self.maxpool(F.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


def add_speed_switches(ap):
    ap.add_argument("--precision", choices=["fp32", "bf16"], default="fp32")
    ap.add_argument("--memory-format", choices=["contiguous", "channels_last"], default="contiguous")


def memory_format(a):
    return torch.channels_last if a.memory_format == "channels_last" else torch.contiguous_format


def autocast(a):  # the forward's context: bf16 autocast or nothing
    return torch.autocast("cpu", dtype=torch.bfloat16, enabled=a.precision == "bf16")


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--preset", required=True)
    ap.add_argument("--image-size", type=int, required=True)
    ap.add_argument("--channels", type=int, required=True)
    ap.add_argument("--classes", type=int, required=True)
    ap.add_argument("--batch-size", type=int, default=128)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--warmup-steps", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1337)
    add_speed_switches(ap)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    c = read_preset(args.preset, args.channels, args.classes)
    model = ResNet(c).to(memory_format=memory_format(args))
    model.train()
    decay = [p for p in model.parameters() if p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": no_decay, "weight_decay": 0.0}],
                            lr=3e-4, betas=(0.9, 0.95), eps=1e-8, foreach=True)
    B, S = args.batch_size, args.image_size
    times = []
    for step in range(args.warmup_steps + args.steps):
        x = torch.randn(B, args.channels, S, S).contiguous(memory_format=memory_format(args))
        y = torch.randint(args.classes, (B,))
        t0 = time.perf_counter()
        with autocast(args):
            logits = model(x)
        loss = F.cross_entropy(logits.float(), y)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)
        loss.item()
        if step >= args.warmup_steps:
            times.append(time.perf_counter() - t0)
    step_s = statistics.median(times)
    print(json.dumps({"images_per_s": B / step_s, "step_ms": step_s * 1e3, "steps": len(times),
                      "params": sum(p.numel() for p in model.parameters()), "peak_rss_mb": peak_rss_mb(),
                      "threads": torch.get_num_threads(), "torch": torch.__version__, "batch_size": B,
                      "precision": args.precision, "memory_format": args.memory_format}))


if __name__ == "__main__":
    main()
