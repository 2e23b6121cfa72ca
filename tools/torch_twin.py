#!/usr/bin/env python3
"""PyTorch twins of locdet's models: an independent oracle for tests and the peer in benchmarks.

  bench-train      [--device cpu|cuda] [--compile] [--batch 64] [--steps 20] [--threads 2]
                   the `bench train` small CNN (apps/bench/train_bench.cpp), one training step
                   (forward, BCE + CE + smooth-L1 loss, backward, AdamW) per iteration; prints
                   images_per_second like our bench.
  bench-localizer  [same flags, --width 16 --model small]
                   the localizer's training step (models/localizer.cpp: small backbone +
                   per-cell head, seed-1 loss with GIoU, AdamW) on a fixed batch; the twin of
                   `bench localizer`. Our step also renders its scenes (~2 ms of a 64-batch
                   step); this one reads a fixed tensor.
  bench-nms        [--device cpu|cuda] [--images 256] [--candidates 1000] [--classes 1] [--iters 20]
                   torchvision.ops.batched_nms on exactly the boxes and scores `bench nms` draws
                   (apps/bench/nms_bench.cpp: std::mt19937(1), reproduced below), with the same
                   rules: score > 0.05, IoU 0.5, class-aware per image, the first 100 kept per
                   image (pre-NMS top-k = all candidates, so no cut); prints images_per_second,
                   mean_kept and kept_score_sum, which must equal ours (the same kept set).
  forward          loads one of OUR safetensors checkpoints and prints the inference outputs
                   for a few fixed images (tools/make_twin_fixture.py writes the test fixture).

Run with the torch venv: tools/torch_env.sh python tools/torch_twin.py bench-train --threads 2
The model definitions are the spec's mirror; keep them in step with models/*.cpp:
  conv (no bias) -> BN (eps 1e-5, momentum 0.1) -> ReLU; small backbone = conv1,conv2 (w),
  pool, conv3,conv4 (2w), pool, conv5,conv6 (4w) (lean: conv1 (w), pool, conv2,conv3 (2w),
  pool, conv4-conv6 (4w)); head: presence = linear(GAP(F)), per cell
  conv3x3-BN-ReLU -> conv1x1 (1 + 10 + 4); to_cells = [N,C,H,W] -> [N,H*W,C];
  decode_box (kernels/common/box.h) around cell anchors, boxes normalized xyxy.
"""
import argparse
import json
import math
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

# Our safetensors files (numpy only); make_twin_fixture.py uses them through this module.
from locdet_safetensors import read_safetensors, write_safetensors  # noqa: F401

K_MAX_LOG_SCALE = 4.135166556742356  # kernels/common/box.h kMaxLogScale
K_BOX_EPS = 1e-7
K_CLASSES = 10

# ---- models ---------------------------------------------------------------------------------


class ConvBN(nn.Module):
    """PREFIX.conv.weight, PREFIX.bn.{weight,bias,running_mean,running_var}; ReLU optional."""

    def __init__(self, cin, cout, kernel=3, stride=1, relu=True):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, kernel, stride, kernel // 2, bias=False)
        self.bn = nn.BatchNorm2d(cout, eps=1e-5, momentum=0.1)
        self.relu = relu

    def forward(self, x):
        x = self.bn(self.conv(x))
        return F.relu(x) if self.relu else x


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.a = ConvBN(cin, cout, 3, stride)
        self.b = ConvBN(cout, cout, 3, 1, relu=False)
        self.down = ConvBN(cin, cout, 1, stride, relu=False) if stride != 1 or cin != cout else None

    def forward(self, x):
        s = self.down(x) if self.down is not None else x
        return F.relu(self.b(self.a(x)) + s)


# models/backbone.cpp kPlainLayouts: convolutions per stage, each stage's channels in units of w.
PLAIN_LAYOUTS = {"small": ((2, 2, 2), (1, 2, 4)), "lean": ((1, 2, 3), (1, 2, 4))}


class PlainBackbone(nn.Module):
    """The VGG-style backbones: conv1, conv2, ... in three stages, a 2x2 max pool between them."""

    def __init__(self, w, kind="small"):
        super().__init__()
        convs, widths = PLAIN_LAYOUTS[kind]
        self.stages, cin, index = [], 1, 0
        for stage in range(3):
            names = []
            for _ in range(convs[stage]):
                index += 1
                setattr(self, "conv%d" % index, ConvBN(cin, widths[stage] * w))
                names.append("conv%d" % index)
                cin = widths[stage] * w
            self.stages.append(names)
        self.channels = cin

    def forward(self, x):
        for stage, names in enumerate(self.stages):
            if stage > 0:
                x = F.max_pool2d(x, 2, 2)
            for name in names:
                x = getattr(self, name)(x)
        return x


class ResNet18Backbone(nn.Module):
    def __init__(self, w):
        super().__init__()
        self.stem = ConvBN(1, w)
        channels, strides = [w, 2 * w, 4 * w, 8 * w], [1, 2, 2, 1]
        cin = w
        for stage in range(4):
            blocks = []
            for block in range(2):
                blocks.append(BasicBlock(cin, channels[stage], strides[stage] if block == 0 else 1))
                cin = channels[stage]
            setattr(self, "layer%d" % (stage + 1), nn.Sequential(*blocks))
        self.channels = 8 * w

    def forward(self, x):
        x = self.stem(x)
        for stage in range(4):
            x = getattr(self, "layer%d" % (stage + 1))(x)
        return x


class Localizer(nn.Module):
    """models/localizer.cpp. config: the "model" object of our run metadata (LocalizerConfig)."""

    def __init__(self, config):
        super().__init__()
        self.config = config
        w = config["width"]
        if config["model"] in PLAIN_LAYOUTS:
            self.backbone = PlainBackbone(w, config["model"])
        elif config["model"] == "resnet18":
            self.backbone = ResNet18Backbone(w)
        else:
            raise SystemExit("unknown model '%s'" % config["model"])
        if config.get("box_bins", 0):
            raise SystemExit("the twin implements offset boxes only, not box edges as distributions (box_bins)")
        c = self.backbone.channels
        self.head = nn.Module()
        self.head.presence = nn.Linear(c, 1)
        self.head.conv = ConvBN(c, c, 3, 1)
        self.head.out = nn.Conv2d(c, 1 + K_CLASSES + 4, 1)
        nn.init.zeros_(self.head.presence.bias)
        nn.init.zeros_(self.head.out.bias)
        self.height, self.image_width = config["height"], config["image_width"]
        self.grid_h, self.grid_w, stride = self.height // 4, self.image_width // 4, 4
        # Anchors as our graph constant holds them (float32 xyxy), then xyxy -> cxcywh as the
        # decode kernel converts them per call.
        aw = np.float32(config["anchor_w"]) * np.float32(self.image_width)
        ah = np.float32(config["anchor_h"]) * np.float32(self.height)
        xyxy = []
        for r in range(self.grid_h):
            for col in range(self.grid_w):
                cx, cy = np.float32((col + 0.5) * stride), np.float32((r + 0.5) * stride)
                xyxy.append([cx - aw / np.float32(2), cy - ah / np.float32(2),
                             cx + aw / np.float32(2), cy + ah / np.float32(2)])
        xyxy = torch.tensor(np.array(xyxy, dtype=np.float32))
        cxcywh = torch.stack([(xyxy[:, 0] + xyxy[:, 2]) * 0.5, (xyxy[:, 1] + xyxy[:, 3]) * 0.5,
                              xyxy[:, 2] - xyxy[:, 0], xyxy[:, 3] - xyxy[:, 1]], 1)
        self.register_buffer("anchors", cxcywh, persistent=False)
        self.center_range = (config["positive_radius"] + 0.5) * stride
        self.register_buffer("box_scale", torch.tensor(
            [1.0 / self.image_width, 1.0 / self.height, 1.0 / self.image_width, 1.0 / self.height],
            dtype=torch.float32), persistent=False)

    def forward(self, images):
        """images [N,1,H,W] -> presence_logit [N,1], location [N,cells], class [N,cells,10],
        boxes [N,cells,4] normalized xyxy."""
        f = self.backbone(images)
        n = f.shape[0]
        presence = self.head.presence(f.mean(dim=(2, 3)))
        out = self.head.out(self.head.conv(f))
        cells = out.permute(0, 2, 3, 1).reshape(n, -1, 1 + K_CLASSES + 4)  # to_cells
        location = cells[:, :, 0]
        classes = cells[:, :, 1:1 + K_CLASSES]
        raw = cells[:, :, 1 + K_CLASSES:]
        a = self.anchors.to(raw.dtype)
        cx = a[:, 0] + self.center_range * (2 * torch.sigmoid(raw[..., 0]) - 1)
        cy = a[:, 1] + self.center_range * (2 * torch.sigmoid(raw[..., 1]) - 1)
        w = a[:, 2] * torch.exp(torch.clamp(raw[..., 2], max=K_MAX_LOG_SCALE))
        h = a[:, 3] * torch.exp(torch.clamp(raw[..., 3], max=K_MAX_LOG_SCALE))
        boxes = torch.stack([cx - 0.5 * w, cy - 0.5 * h, cx + 0.5 * w, cy + 0.5 * h], -1)
        return presence, location, classes, boxes * self.box_scale.to(boxes.dtype)


def load_localizer(path):
    """Our checkpoint -> (Localizer in eval mode with its weights, run dict)."""
    tensors, meta, _ = read_safetensors(path)
    if meta.get("locdet.task") != "localize":
        raise SystemExit("%s is not a locdet localizer checkpoint" % path)
    run = json.loads(meta["locdet.run"])
    model = Localizer(run["model"])
    state = model.state_dict()
    missing = [k for k in state if k not in tensors and not k.endswith("num_batches_tracked")]
    if missing:
        raise SystemExit("checkpoint lacks %s" % ", ".join(missing))
    for k in state:
        if k in tensors:
            state[k] = torch.from_numpy(tensors[k])
    model.load_state_dict(state)
    return model.eval(), run


# ---- the localizer loss (models/localizer.cpp + kernels/common/localizer_targets.h) ---------


def localizer_targets(labels, grid_h, grid_w, radius):
    """labels [N,6] float32 numpy -> dict of tensors, mirroring localizer_targets.h in float32."""
    labels = labels.astype(np.float32)
    n = labels.shape[0]
    present = int((labels[:, 0] > 0.5).sum())
    cells = grid_h * grid_w
    centre = np.full(n, -1, np.int64)
    presence = np.zeros((n, 1), np.float32)
    image_weight = np.zeros(n, np.float32)
    cell_class = np.full(n * cells, -1, np.int64)
    cell_weight = np.zeros(n * cells, np.float32)
    target = np.zeros((n * cells, 4), np.float32)
    target[:, 2:] = 1
    half = np.float32(0.5)
    for i, l in enumerate(labels):
        if not l[0] > 0.5:
            continue
        ccol = min(max(int(l[1] * np.float32(grid_w)), 0), grid_w - 1)
        crow = min(max(int(l[2] * np.float32(grid_h)), 0), grid_h - 1)
        centre[i] = crow * grid_w + ccol
        presence[i] = 1
        image_weight[i] = np.float32(1) / np.float32(present)

        def positive(r, c):
            if r == crow and c == ccol:
                return True
            if abs(r - crow) > radius or abs(c - ccol) > radius:
                return False
            x = np.float32(c + 0.5) / np.float32(grid_w)
            y = np.float32(r + 0.5) / np.float32(grid_h)
            return (l[1] - half * l[3] < x < l[1] + half * l[3]) and (l[2] - half * l[4] < y < l[2] + half * l[4])

        pos = [(r, c) for r in range(grid_h) for c in range(grid_w) if positive(r, c)]
        box = [l[1] - half * l[3], l[2] - half * l[4], l[1] + half * l[3], l[2] + half * l[4]]
        target[i * cells:(i + 1) * cells] = box
        for r, c in pos:
            j = i * cells + r * grid_w + c
            cell_class[j] = int(l[5])
            cell_weight[j] = np.float32(1) / (np.float32(present) * np.float32(len(pos)))
    t = lambda a: torch.from_numpy(a)  # noqa: E731
    return {"centre_cell": t(centre), "presence": t(presence), "image_weight": t(image_weight),
            "cell_class": t(cell_class), "cell_weight": t(cell_weight), "target_box": t(target)}


def giou_loss(p, g):
    """1 - GIoU per row, kernels/common/box.h iou_loss_value (eps 1e-7)."""
    iw = torch.minimum(p[:, 2], g[:, 2]) - torch.maximum(p[:, 0], g[:, 0])
    ih = torch.minimum(p[:, 3], g[:, 3]) - torch.maximum(p[:, 1], g[:, 1])
    inter = torch.where((iw > 0) & (ih > 0), iw * ih, torch.zeros_like(iw))
    uni = (p[:, 2] - p[:, 0]) * (p[:, 3] - p[:, 1]) + (g[:, 2] - g[:, 0]) * (g[:, 3] - g[:, 1]) - inter
    iou = inter / (uni + K_BOX_EPS)
    cw = torch.maximum(p[:, 2], g[:, 2]) - torch.minimum(p[:, 0], g[:, 0])
    ch = torch.maximum(p[:, 3], g[:, 3]) - torch.minimum(p[:, 1], g[:, 1])
    area_c = cw * ch
    return 1 - (iou - (area_c - uni) / (area_c + K_BOX_EPS))


def localizer_loss(model, images, targets, cfg=None):
    """The seed-1 loss with GIoU and the default weights (1, 1, 1, 2); returns (loss, parts).
    cfg defaults to model.config (pass it when model is a torch.compile wrapper)."""
    cfg = cfg if cfg is not None else model.config
    presence, location, classes, boxes = model(images)
    n, cells = location.shape
    ce = lambda logits, y: F.cross_entropy(logits, y.clamp(min=0), reduction="none") * (y >= 0)  # noqa: E731
    presence_loss = F.binary_cross_entropy_with_logits(presence, targets["presence"])
    location_loss = (ce(location, targets["centre_cell"]) * targets["image_weight"]).sum()
    class_loss = (ce(classes.reshape(n * cells, K_CLASSES), targets["cell_class"]) * targets["cell_weight"]).sum()
    if cfg.get("box_loss", "giou") != "giou":
        raise SystemExit("the twin implements the giou box loss only")
    box_loss = (giou_loss(boxes.reshape(n * cells, 4), targets["target_box"]) * targets["cell_weight"]).sum()
    loss = (cfg["presence_weight"] * presence_loss + cfg["location_weight"] * location_loss
            + cfg["class_weight"] * class_loss + cfg["box_weight"] * box_loss)
    return loss, {"presence_loss": presence_loss, "location_loss": location_loss, "class_loss": class_loss,
                  "box_loss": box_loss}


def default_localizer_config(width=16, model="small"):
    return {"model": model, "width": width, "height": 48, "image_width": 60, "box_loss": "giou",
            "presence_weight": 1.0, "location_weight": 1.0, "class_weight": 6.0, "box_weight": 8.0,
            "positive_radius": 1, "anchor_w": 0.3, "anchor_h": 0.4}


def random_localizer_batch(batch, height=48, width=60, seed=1):
    """Noise images and labels with ~90% digits present, boxes inside the image."""
    rng = np.random.default_rng(seed)
    images = rng.random((batch, 1, height, width), dtype=np.float32)
    labels = np.zeros((batch, 6), np.float32)
    for i in range(batch):
        if rng.random() < 0.9:
            w, h = rng.uniform(0.15, 0.45), rng.uniform(0.25, 0.6)
            labels[i] = [1, rng.uniform(w / 2, 1 - w / 2), rng.uniform(h / 2, 1 - h / 2), w, h, rng.integers(10)]
    return images, labels


# ---- the bench's small CNN (apps/bench/train_bench.cpp) -------------------------------------


class BenchCNN(nn.Module):
    def __init__(self):
        super().__init__()
        layers, c = [], 1
        for w in (16, 32, 64):
            layers += [nn.Conv2d(c, w, 3, 1, 1, bias=False), nn.BatchNorm2d(w), nn.ReLU(), nn.MaxPool2d(2, 2)]
            c = w
        self.features = nn.Sequential(*layers)
        self.head = nn.Linear(64 * 6 * 7, 15)
        nn.init.xavier_uniform_(self.head.weight)
        nn.init.zeros_(self.head.bias)

    def forward(self, x):
        return self.head(self.features(x).flatten(1))


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def timed_steps(step, device, steps, warmup=3):
    for _ in range(warmup):
        step()
    sync(device)
    start = time.perf_counter()
    for _ in range(steps):
        loss = step()
    sync(device)
    seconds = time.perf_counter() - start
    return loss, seconds


def prepare(model, args):
    """Moves the model to --device and applies --compile (torch.compile of the model)."""
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise SystemExit("--device cuda: torch sees no GPU")
    model = model.to(device)
    fwd = torch.compile(model) if args.compile else model
    return device, model, fwd


def adamw(params, lr=1e-3, weight_decay=0.01):
    # Our OptimizerConfig default: AdamW, decay only on weights (rank >= 2).
    decay = [p for p in params if p.dim() >= 2]
    rest = [p for p in params if p.dim() < 2]
    return torch.optim.AdamW([{"params": decay, "weight_decay": weight_decay},
                              {"params": rest, "weight_decay": 0.0}], lr=lr)


def report(name, args, steps, loss, seconds):
    batch = args.batch
    mode = "torch.compile" if args.compile else "eager"
    print("twin: %s\ndevice: %s\nmode: %s\ntorch: %s\nthreads: %d\nbatch: %d\nsteps: %d\nloss: %.4f" %
          (name, args.device, mode, torch.__version__, torch.get_num_threads(), batch, steps, float(loss)))
    print("step_ms: %.3f\nimages_per_second: %.1f" % (1e3 * seconds / steps, batch * steps / seconds))


def bench_train(args):
    torch.manual_seed(1)
    device, model, fwd = prepare(BenchCNN(), args)
    opt = adamw(list(model.parameters()))
    g = torch.Generator().manual_seed(1)
    b = args.batch
    images = torch.rand(b, 1, 48, 60, generator=g).to(device)
    presence = (torch.rand(b, 1, generator=g) < 0.9).float().to(device)
    box = torch.rand(b, 4, generator=g).to(device)
    labels = torch.randint(0, 10, (b,), generator=g).to(device)

    def step():
        opt.zero_grad(set_to_none=True)
        head = fwd(images)
        loss = F.binary_cross_entropy_with_logits(head[:, 0:1], presence)
        loss = loss + F.cross_entropy(head[:, 1:11], labels)
        loss = loss + F.smooth_l1_loss(torch.sigmoid(head[:, 11:15]), box)
        loss.backward()
        opt.step()
        return loss.detach()

    loss, seconds = timed_steps(step, device, args.steps)
    report("bench-train", args, args.steps, loss, seconds)


def bench_localizer(args):
    torch.manual_seed(1)
    device, model, fwd = prepare(Localizer(default_localizer_config(args.width, args.model)).train(), args)
    opt = adamw(list(model.parameters()), lr=2e-3, weight_decay=1e-4)
    images, labels = random_localizer_batch(args.batch)
    images = torch.from_numpy(images).to(device)
    targets = {k: v.to(device) for k, v in localizer_targets(labels, model.grid_h, model.grid_w, 1).items()}

    def step():
        opt.zero_grad(set_to_none=True)
        loss, _ = localizer_loss(fwd, images, targets, model.config)
        loss.backward()
        opt.step()
        return loss.detach()

    loss, seconds = timed_steps(step, device, args.steps)
    report("bench-localizer width %d %s" % (args.width, args.model), args, args.steps, loss, seconds)


def mt19937_uniform_floats(seed, n):
    """What std::uniform_real_distribution<float>(0, 1) over std::mt19937(seed) returns with
    libstdc++: each draw is one 32-bit output x, float(x) / 2^32 in float, just below 1 if it
    rounds to 1. numpy's legacy RandomState seeds MT19937 exactly as std::mt19937 does."""
    raw = np.random.RandomState(seed).randint(0, 2 ** 32, size=n, dtype=np.uint64)
    f = raw.astype(np.float32) / np.float32(4294967296.0)
    return np.where(f >= 1, np.nextafter(np.float32(1), np.float32(0)), f).astype(np.float32)


def nms_bench_inputs(images, candidates, classes):
    """The boxes [images, candidates, 4] and scores [images, candidates, classes] of bench nms."""
    n = images * candidates
    u = mt19937_uniform_floats(1, 4 * n + n * classes)
    xywh = u[:4 * n].reshape(n, 4)
    x, y = xywh[:, 0] * np.float32(50), xywh[:, 1] * np.float32(40)
    w, h = np.float32(4) + xywh[:, 2] * np.float32(12), np.float32(4) + xywh[:, 3] * np.float32(12)
    boxes = np.stack([x, y, x + w, y + h], 1).reshape(images, candidates, 4)
    return boxes, u[4 * n:].reshape(images, candidates, classes)


def bench_nms(args):
    import torchvision  # the GPU host's torch venv has it; a plain torch install may not

    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise SystemExit("--device cuda: torch sees no GPU")
    images, candidates, classes, max_det = args.images, args.candidates, args.classes, 100
    boxes_np, scores_np = nms_bench_inputs(images, candidates, classes)
    boxes = torch.from_numpy(boxes_np).to(device)
    scores = torch.from_numpy(scores_np).reshape(images, candidates * classes).to(device)

    def once():
        img, pair = (scores > 0.05).nonzero(as_tuple=True)
        candidate_scores = scores[img, pair]
        keep = torchvision.ops.batched_nms(boxes[img, pair // classes], candidate_scores,
                                           img * classes + pair % classes, 0.5)
        # keep is sorted by score: group it by image (stable) and take each image's first max_det.
        kept_img = img[keep]
        by_image = torch.sort(kept_img, stable=True)
        counts = torch.bincount(kept_img, minlength=images)
        rank = torch.arange(len(keep), device=device) - (torch.cumsum(counts, 0) - counts)[by_image.values]
        selected = keep[by_image.indices][rank < max_det]
        return candidate_scores[selected], counts.clamp(max=max_det)

    kept_scores, counts = once()
    kept_score_sum = float(kept_scores.double().sum())
    sync(device)
    if device.type == "cuda":
        start, stop = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        for _ in range(args.iters):
            once()
        stop.record()
        stop.synchronize()
        ms = start.elapsed_time(stop) / args.iters
    else:
        t0 = time.perf_counter()
        for _ in range(args.iters):
            once()
        ms = 1e3 * (time.perf_counter() - t0) / args.iters
    print("twin: bench-nms (torchvision %s batched_nms)\ndevice: %s\ntorch: %s\nthreads: %d" %
          (torchvision.__version__, args.device, torch.__version__, torch.get_num_threads()))
    print("images: %d\ncandidates: %d\nclasses: %d\nmean_kept: %.2f\nkept_score_sum: %.4f\nms: %.4f\n"
          "images_per_second: %.1f" % (images, candidates, classes, float(counts.float().mean()), kept_score_sum, ms,
                                       images / (ms / 1000.0)))


def forward(args):
    model, run = load_localizer(args.checkpoint)
    if args.double:
        model = model.double()
    images, _ = random_localizer_batch(args.images, model.height, model.image_width, seed=args.seed)
    x = torch.from_numpy(images).to(torch.float64 if args.double else torch.float32)
    with torch.no_grad():
        p, loc, cls, boxes = model(x)
    for n in range(args.images):
        cell = int(loc[n].argmax())
        print("image %d: presence_logit %.6f cell %d digit %d box %s" %
              (n, float(p[n, 0]), cell, int(cls[n, cell].argmax()), [round(float(v), 5) for v in boxes[n, cell]]))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="mode", required=True)
    for name in ("bench-train", "bench-localizer"):
        s = sub.add_parser(name)
        s.add_argument("--batch", type=int, default=64)
        s.add_argument("--steps", type=int, default=20)
        s.add_argument("--threads", type=int, default=2, help="torch.set_num_threads (match OMP_NUM_THREADS)")
        s.add_argument("--device", default="cpu", help="cpu | cuda")
        s.add_argument("--compile", action="store_true", help="torch.compile the model (GPU: needs triton)")
        if name == "bench-localizer":
            s.add_argument("--width", type=int, default=16)
            s.add_argument("--model", default="small")
    s = sub.add_parser("bench-nms")
    s.add_argument("--device", default="cpu", help="cpu | cuda")
    s.add_argument("--images", type=int, default=256)
    s.add_argument("--candidates", type=int, default=1000)
    s.add_argument("--classes", type=int, default=1)
    s.add_argument("--iters", type=int, default=20)
    s.add_argument("--threads", type=int, default=2)
    s = sub.add_parser("forward")
    s.add_argument("--checkpoint", required=True)
    s.add_argument("--images", type=int, default=2)
    s.add_argument("--seed", type=int, default=7)
    s.add_argument("--double", action="store_true")
    s.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    {"bench-train": bench_train, "bench-localizer": bench_localizer, "bench-nms": bench_nms,
     "forward": forward}[args.mode](args)


if __name__ == "__main__":
    sys.exit(main())
