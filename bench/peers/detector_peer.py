#!/usr/bin/python3
"""PyTorch-eager peer of ptft's yolo detector, for bench/detect_bench.sh: training step and detection.

The same network as src/models/detector.cpp: the ResNet trunk of resnet_train_peer.py (basic or
bottleneck blocks, imagenet or small stem) on (x - pixel_mean) / pixel_std; an FPN over stages
2..4 (1x1 lateral convs to fpn_channels, nearest 2x top-down sums, 3x3 output convs -> P3..P5);
shared head: cls/box towers of head_convs x [3x3 conv, GroupNorm(gcd(F, 16)), ReLU], 3x3 cls_pred
(bias at the 0.01 prior) and box_pred, one learnable scale per level; side distances
softplus(scale * box_pred) * stride. Initialisation as ptft's (kaiming fan_out trunk convs,
N(0, 0.01) head convs).

train: ptft's detection step (src/train/detection_task.cpp): per image FCOS center sampling
(radius 2.5 strides, smallest box wins), sigmoid focal loss (alpha 0.25, gamma 2) summed over all
points and classes, CIoU loss summed over positives, loss = (cls + box_weight * box) / positives
of the batch; backward, grad-norm clip 1.0, AdamW (lr 3e-4, betas 0.9/0.95, eps 1e-8, weight decay
0.1 on tensors of 2+ dims), grads set to None. Random images with random boxes, made before each
step's timer (ptft's come from its loader: decoded scenes, letterboxed, on the prefetch thread).
--precision bf16 (the forward under CPU bf16 autocast, the loss on fp32 outputs) and
--memory-format channels_last (model and images NHWC) time PyTorch users' faster modes.

detect: per image, batch 1: letterbox (scale the longer side to image_size, grey 114 border),
forward under no_grad in eval mode, decode (sigmoid scores > conf, top 1000, greedy NMS per class
at IoU > iou, max_det), boxes back to the original pixels; the mean over the images after a
warm-up pass (as ptft detect's speed_ms). The images
are random uint8 tensors (ptft's per-image time, like this one, excludes decoding the file).

  /usr/bin/python3 bench/peers/detector_peer.py train --image-size 96 --classes 4 --width 8 \
      --layers 1,1,1,1 --fpn-channels 16 --batch-size 16 --steps 10 --warmup-steps 3 --threads 2
  /usr/bin/python3 bench/peers/detector_peer.py detect --image-size 96 --classes 4 ... --images 20
  -> {"images_per_s": ...} / {"ms_per_image": ...}
"""
import argparse
import json
import math
import os
import resource
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from resnet_train_peer import Block, add_speed_switches, autocast, conv_bn, memory_format  # noqa: E402


class Detector(nn.Module):
    def __init__(self, a):
        super().__init__()
        w, bottleneck, small = a.width, a.block == "bottleneck", a.stem == "small"
        self.conv1, self.bn1 = conv_bn(3, w, 3 if small else 7, 1 if small else 2)
        self.maxpool = nn.Identity() if small else nn.MaxPool2d(3, 2, 1)
        stages, cin, outs = [], w, []
        for k, n in enumerate(a.layers):
            blocks = []
            for i in range(n):
                blocks.append(Block(cin, w << k, 2 if (i == 0 and k > 0) else 1, bottleneck))
                cin = (w << k) * (4 if bottleneck else 1)
            stages.append(nn.Sequential(*blocks))
            outs.append(cin)
        self.layer1, self.layer2, self.layer3, self.layer4 = stages
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
        Fc = a.fpn_channels
        self.lateral = nn.ModuleList(nn.Conv2d(outs[l + 1], Fc, 1) for l in range(3))
        self.output = nn.ModuleList(nn.Conv2d(Fc, Fc, 3, padding=1) for _ in range(3))
        groups = math.gcd(Fc, 16)

        def tower():
            layers = []
            for _ in range(a.head_convs):
                layers += [head_conv(Fc, Fc), Fp32GroupNorm(groups, Fc), nn.ReLU()]
            return nn.Sequential(*layers)

        self.cls_tower, self.box_tower = tower(), tower()
        self.cls_pred, self.box_pred = head_conv(Fc, a.classes), head_conv(Fc, 4)
        nn.init.constant_(self.cls_pred.bias, -math.log((1 - 0.01) / 0.01))
        self.scales = nn.Parameter(torch.ones(3))
        base = 1 if small else 4
        self.strides = [base * 2, base * 4, base * 8]
        self.classes = a.classes

    def forward(self, x):  # x (B,3,S,S) in [0,1]
        x = (x - 0.5) / 0.5
        c1 = self.layer1(self.maxpool(F.relu(self.bn1(self.conv1(x)))))
        c2 = self.layer2(c1)
        c3 = self.layer3(c2)
        c4 = self.layer4(c3)
        c = [c2, c3, c4]
        lat = [None] * 3
        for l in (2, 1, 0):
            lat[l] = self.lateral[l](c[l])
            if l < 2:
                lat[l] = lat[l] + F.interpolate(lat[l + 1], size=lat[l].shape[2:], mode="nearest")
        cls, box, pts, strd = [], [], [], []
        B = x.shape[0]
        for l in range(3):
            p = self.output[l](lat[l])
            h, w = p.shape[2:]
            cl = self.cls_pred(self.cls_tower(p))
            bx = F.softplus(self.box_pred(self.box_tower(p)) * self.scales[l]) * self.strides[l]
            cls.append(cl.permute(0, 2, 3, 1).reshape(B, h * w, self.classes))
            box.append(bx.permute(0, 2, 3, 1).reshape(B, h * w, 4))
            s = self.strides[l]
            ys = (torch.arange(h, dtype=torch.float32) + 0.5) * s
            xs = (torch.arange(w, dtype=torch.float32) + 0.5) * s
            yy, xx = torch.meshgrid(ys, xs, indexing="ij")
            pts.append(torch.stack([xx.reshape(-1), yy.reshape(-1)], 1))
            strd.append(torch.full((h * w,), float(s)))
        return torch.cat(cls, 1), torch.cat(box, 1), torch.cat(pts, 0), torch.cat(strd, 0)


class Fp32GroupNorm(nn.GroupNorm):
    """GroupNorm on fp32 NCHW input, as ptft's run_tower: under bf16 autocast the convolutions give
    bf16, and torch 1.13's CPU group_norm wants input and weight of one dtype (autocast leaves it
    alone); on channels-last input it is ~50x slower than on NCHW."""

    def forward(self, x):
        return super().forward(x.float().contiguous())


def head_conv(cin, cout):
    c = nn.Conv2d(cin, cout, 3, padding=1)
    nn.init.normal_(c.weight, 0.0, 0.01)
    nn.init.zeros_(c.bias)
    return c


def center_sampling(points, strides, gt, radius):  # (P,2), (P), (G,4) -> (P) gt index or -1
    P, G = points.shape[0], gt.shape[0]
    if G == 0:
        return torch.full((P,), -1, dtype=torch.long)
    x, y = points[:, :1], points[:, 1:]
    x1, y1, x2, y2 = (gt[:, k].view(1, G) for k in range(4))
    ltrb = torch.stack([x - x1, y - y1, x2 - x, y2 - y], 2)
    inside = ltrb.min(2).values > 0
    r = (strides * radius).view(P, 1)
    central = ((x - (x1 + x2) / 2).abs() < r) & ((y - (y1 + y2) / 2).abs() < r)
    area = ((x2 - x1) * (y2 - y1)).expand(P, G)
    cost = torch.where(inside & central, area, torch.full_like(area, math.inf))
    best, idx = cost.min(1)
    return torch.where(torch.isfinite(best), idx, torch.full_like(idx, -1))


def focal(x, y, alpha=0.25, gamma=2.0):
    ce = -(y * F.logsigmoid(x) + (1 - y) * F.logsigmoid(-x))
    p = torch.sigmoid(x)
    p_t = p * y + (1 - p) * (1 - y)
    return ce * (1 - p_t).pow(gamma) * (alpha * y + (1 - alpha) * (1 - y))


def ciou(p, t, eps=1e-7):
    pw, ph = p[:, 2] - p[:, 0], p[:, 3] - p[:, 1] + eps
    tw, th = t[:, 2] - t[:, 0], t[:, 3] - t[:, 1] + eps
    iw = (torch.min(p[:, 2], t[:, 2]) - torch.max(p[:, 0], t[:, 0])).clamp_min(0)
    ih = (torch.min(p[:, 3], t[:, 3]) - torch.max(p[:, 1], t[:, 1])).clamp_min(0)
    inter = iw * ih
    iou = inter / (pw * ph + tw * th - inter + eps)
    cw = torch.max(p[:, 2], t[:, 2]) - torch.min(p[:, 0], t[:, 0])
    ch = torch.max(p[:, 3], t[:, 3]) - torch.min(p[:, 1], t[:, 1])
    c2 = cw ** 2 + ch ** 2 + eps
    rho2 = ((p[:, 0] + p[:, 2] - t[:, 0] - t[:, 2]) ** 2 + (p[:, 1] + p[:, 3] - t[:, 1] - t[:, 3]) ** 2) / 4
    v = (4 / math.pi ** 2) * (torch.atan(tw / th) - torch.atan(pw / ph)) ** 2
    with torch.no_grad():
        alpha = v / (v - iou + (1 + eps))
    return 1 - (iou - (rho2 / c2 + v * alpha))


def detection_loss(out, boxes, labels, box_weight=2.0, radius=2.5):
    cls, ltrb, points, strides = out
    B, P, C = cls.shape
    targets, pb, gb = [], [], []
    for b in range(B):
        gi = center_sampling(points, strides, boxes[b], radius)
        t = torch.zeros(P, C)
        pos = (gi >= 0).nonzero().squeeze(1)
        if pos.numel():
            g = gi[pos]
            t[pos, labels[b][g]] = 1.0
            d = ltrb[b, pos]
            p = points[pos]
            pb.append(torch.cat([p - d[:, :2], p + d[:, 2:]], 1))
            gb.append(boxes[b][g])
        targets.append(t)
    n = max(1, sum(x.shape[0] for x in pb))
    cls_sum = focal(cls.reshape(-1, C), torch.cat(targets, 0)).sum()
    box_sum = ciou(torch.cat(pb), torch.cat(gb)).sum() if pb else ltrb.sum() * 0
    return (cls_sum + box_weight * box_sum) / n


def random_scene(S, classes, objects, gen):
    img = torch.rand(3, S, S, generator=gen)
    wh = torch.rand(objects, 2, generator=gen) * (S / 2 - 8) + 8
    xy = torch.rand(objects, 2, generator=gen) * (S - wh)
    return img, torch.cat([xy, xy + wh], 1), torch.randint(classes, (objects,), generator=gen)


def nms_per_class(boxes, cls, iou, max_det):  # lists, by descending score; greedy as ptft's boxes.cpp
    keep = []
    for i in range(len(boxes)):
        ok = True
        for k in keep:
            if cls[k] == cls[i]:
                p, q = boxes[k], boxes[i]
                inter = max(0.0, min(p[2], q[2]) - max(p[0], q[0])) * max(0.0, min(p[3], q[3]) - max(p[1], q[1]))
                a = (p[2] - p[0]) * (p[3] - p[1])
                b = (q[2] - q[0]) * (q[3] - q[1])
                if inter / max(a + b - inter, 1e-12) > iou:
                    ok = False
                    break
        if ok:
            keep.append(i)
            if len(keep) >= max_det:
                break
    return keep


def letterbox(img, size):  # (C,H,W) uint8 -> (3,size,size) float [0,1], scale, pad
    C, H, W = img.shape
    s = size / max(H, W)
    nh, nw = max(1, round(H * s)), max(1, round(W * s))
    x = img.float().unsqueeze(0)
    if C == 1:
        x = x.expand(1, 3, H, W)
    if (nh, nw) != (H, W):
        x = F.interpolate(x, size=(nh, nw), mode="bilinear", align_corners=False)
    out = torch.full((1, 3, size, size), 114.0)
    py, px = (size - nh) // 2, (size - nw) // 2
    out[:, :, py:py + nh, px:px + nw] = x.round().clamp(0, 255)
    return out / 255.0, s, px, py


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("mode", choices=["train", "detect"])
    ap.add_argument("--image-size", type=int, required=True)
    ap.add_argument("--classes", type=int, required=True)
    ap.add_argument("--block", default="basic")
    ap.add_argument("--layers", default="1,1,1,1")
    ap.add_argument("--width", type=int, default=8)
    ap.add_argument("--stem", default="imagenet")
    ap.add_argument("--fpn-channels", type=int, default=16)
    ap.add_argument("--head-convs", type=int, default=2)
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--objects", type=int, default=3, help="boxes per random training scene")
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--warmup-steps", type=int, default=3)
    ap.add_argument("--images", type=int, default=20, help="detect: random uint8 images of --height x --width")
    ap.add_argument("--height", type=int, default=0, help="detect: image height (0 = image size)")
    ap.add_argument("--width-px", type=int, default=0, help="detect: image width (0 = image size)")
    ap.add_argument("--repeats", type=int, default=3, help="detect: passes over the images (the first warms up)")
    ap.add_argument("--conf", type=float, default=0.25)
    ap.add_argument("--iou", type=float, default=0.7)
    ap.add_argument("--max-det", type=int, default=300)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1337)
    add_speed_switches(ap)
    a = ap.parse_args()
    a.layers = [int(v) for v in a.layers.split(",")]
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    model = Detector(a).to(memory_format=memory_format(a))
    params = sum(p.numel() for p in model.parameters())
    if a.mode == "train":
        model.train()
        decay = [p for p in model.parameters() if p.dim() >= 2]
        no_decay = [p for p in model.parameters() if p.dim() < 2]
        opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": no_decay, "weight_decay": 0.0}],
                                lr=3e-4, betas=(0.9, 0.95), eps=1e-8, foreach=True)
        gen = torch.Generator().manual_seed(a.seed)
        times = []
        for step in range(a.warmup_steps + a.steps):
            scenes = [random_scene(a.image_size, a.classes, a.objects, gen) for _ in range(a.batch_size)]
            x = torch.stack([s[0] for s in scenes]).contiguous(memory_format=memory_format(a))
            t0 = time.perf_counter()
            with autocast(a):
                out = model(x)
            out = tuple(t.float() for t in out)
            loss = detection_loss(out, [s[1] for s in scenes], [s[2] for s in scenes])
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            opt.zero_grad(set_to_none=True)
            loss.item()
            if step >= a.warmup_steps:
                times.append(time.perf_counter() - t0)
        step_s = statistics.median(times)
        print(json.dumps({"images_per_s": a.batch_size / step_s, "step_ms": step_s * 1e3, "steps": len(times),
                          "params": params, "peak_rss_mb": peak_rss_mb(), "threads": torch.get_num_threads(),
                          "torch": torch.__version__, "batch_size": a.batch_size,
                          "precision": a.precision, "memory_format": a.memory_format}))
        return
    model.eval()
    gen = torch.Generator().manual_seed(a.seed)
    H, W = a.height or a.image_size, a.width_px or a.image_size
    imgs = [torch.randint(0, 256, (3, H, W), dtype=torch.uint8, generator=gen) for _ in range(a.images)]
    times, found = [], 0
    with torch.no_grad():
        for r in range(a.repeats):
            for img in imgs:
                t0 = time.perf_counter()
                x, s, px, py = letterbox(img, a.image_size)
                cls, ltrb, pts, _ = model(x)
                sc = torch.sigmoid(cls[0])
                idx = (sc > a.conf).nonzero()
                v = sc[idx[:, 0], idx[:, 1]]
                order = v.argsort(descending=True)[:1000]
                idx, v = idx[order], v[order]
                p, d = pts[idx[:, 0]], ltrb[0, idx[:, 0]]
                b = torch.cat([p - d[:, :2], p + d[:, 2:]], 1)
                keep = nms_per_class(b.tolist(), idx[:, 1].tolist(), a.iou, a.max_det)
                b = b[keep]
                H, W = img.shape[1:]
                b[:, 0::2] = ((b[:, 0::2] - px) / s).clamp(0, W)
                b[:, 1::2] = ((b[:, 1::2] - py) / s).clamp(0, H)
                if r > 0:
                    times.append(time.perf_counter() - t0)
                    found += len(keep)
    ms = statistics.mean(times) * 1e3  # the mean, as ptft detect's speed_ms
    print(json.dumps({"ms_per_image": ms, "images": len(times), "detections": found, "params": params,
                      "peak_rss_mb": peak_rss_mb(), "threads": torch.get_num_threads(), "torch": torch.__version__}))


if __name__ == "__main__":
    main()
