#!/usr/bin/env python3
"""Golden fixtures from PyTorch for the CPU kernels (tests/test_golden.cpp reads them).

Small fixed inputs, float32-representable, evaluated by PyTorch in float64 (the truth the float
kernels must approach), except AdamW, which runs in float32 as a user's model would.
Writes tests/golden/*.json; the committed files mean the C++ tests need no PyTorch.

  python tools/make_golden.py [--out tests/golden]

A CUDA build of torch from PyPI may need LD_LIBRARY_PATH=/usr/local/cuda/lib64 to import.
"""
import argparse
import json
import os

import torch
import torch.nn.functional as F

F64 = torch.float64


def rand(gen, *shape, lo=-1.0, hi=1.0):
    # float32-representable values so the C++ float inputs are exactly the same numbers
    t = torch.rand(*shape, generator=gen, dtype=torch.float32) * (hi - lo) + lo
    return t.to(F64)


def flat(t):
    return [float(v) for v in t.detach().reshape(-1).tolist()]


def leaf(t):
    return t.clone().requires_grad_(True)


def conv_case(gen, stride, pad, bias):
    x, w = leaf(rand(gen, 2, 3, 7, 6)), leaf(rand(gen, 4, 3, 3, 3))
    b = leaf(rand(gen, 4)) if bias else None
    y = F.conv2d(x, w, b, stride=stride, padding=pad)
    dy = rand(gen, *y.shape)
    (y * dy).sum().backward()
    case = {"n": 2, "c": 3, "h": 7, "w": 6, "k": 4, "r": 3, "s": 3, "stride": stride, "pad": pad,
            "x": flat(x), "w_": flat(w), "dy": flat(dy), "y": flat(y), "dx": flat(x.grad), "dw": flat(w.grad)}
    if bias:
        case["b"], case["db"] = flat(b), flat(b.grad)
    return case


def batchnorm(gen):
    n, c, h, w = 3, 4, 2, 5
    x, gamma, beta = leaf(rand(gen, n, c, h, w, lo=-2, hi=3)), leaf(rand(gen, c, lo=0.5, hi=1.5)), leaf(rand(gen, c))
    rm, rv = rand(gen, c), rand(gen, c, lo=0.5, hi=2.0)
    rm0, rv0 = rm.clone(), rv.clone()
    y = F.batch_norm(x, rm, rv, gamma, beta, training=True, momentum=0.1, eps=1e-5)
    dy = rand(gen, *y.shape)
    (y * dy).sum().backward()
    return {"n": n, "c": c, "hw": h * w, "momentum": 0.1, "eps": 1e-5, "x": flat(x), "gamma": flat(gamma),
            "beta": flat(beta), "running_mean_in": flat(rm0), "running_var_in": flat(rv0), "dy": flat(dy),
            "y": flat(y), "running_mean": flat(rm), "running_var": flat(rv), "dx": flat(x.grad),
            "dgamma": flat(gamma.grad), "dbeta": flat(beta.grad)}


def cross_entropy(gen):
    n, classes = 6, 5
    logits = leaf(rand(gen, n, classes, lo=-3, hi=3))
    labels = torch.tensor([0, 4, -1, 2, 3, 1])
    loss = F.cross_entropy(logits, labels, ignore_index=-1, label_smoothing=0.1, reduction="none")
    dloss = rand(gen, n)
    (loss * dloss).sum().backward()
    return {"n": n, "classes": classes, "smoothing": 0.1, "logits": flat(logits), "labels": labels.tolist(),
            "dloss": flat(dloss), "loss": flat(loss), "dlogits": flat(logits.grad)}


def targets(gen, n):
    u = rand(gen, n, lo=0, hi=1)
    return torch.where(u < 0.5, torch.zeros_like(u), torch.where(u < 0.75, torch.ones_like(u), u))


def bce(gen):
    n = 16
    x, t = leaf(rand(gen, n, lo=-6, hi=6)), targets(gen, n)
    loss = F.binary_cross_entropy_with_logits(x, t, reduction="none")
    dloss = rand(gen, n)
    (loss * dloss).sum().backward()
    return {"logits": flat(x), "targets": flat(t), "dloss": flat(dloss), "loss": flat(loss), "dlogits": flat(x.grad)}


def focal_torchvision(inputs, targets, alpha, gamma):
    # torchvision.ops.sigmoid_focal_loss, reduction="none", written out
    p = torch.sigmoid(inputs)
    ce_loss = F.binary_cross_entropy_with_logits(inputs, targets, reduction="none")
    p_t = p * targets + (1 - p) * (1 - targets)
    loss = ce_loss * ((1 - p_t) ** gamma)
    if alpha >= 0:
        alpha_t = alpha * targets + (1 - alpha) * (1 - targets)
        loss = alpha_t * loss
    return loss


def focal(gen, alpha, gamma):
    n = 16
    x, t = leaf(rand(gen, n, lo=-6, hi=6)), targets(gen, n)
    loss = focal_torchvision(x, t, alpha, gamma)
    dloss = rand(gen, n)
    (loss * dloss).sum().backward()
    return {"alpha": alpha, "gamma": gamma, "logits": flat(x), "targets": flat(t), "dloss": flat(dloss),
            "loss": flat(loss), "dlogits": flat(x.grad)}


def smooth_l1(gen, beta):
    n = 16
    p, t = leaf(rand(gen, n, lo=-2, hi=2)), rand(gen, n, lo=-2, hi=2)
    loss = F.smooth_l1_loss(p, t, beta=beta, reduction="none")
    dloss = rand(gen, n)
    (loss * dloss).sum().backward()
    return {"beta": beta, "pred": flat(p), "target": flat(t), "dloss": flat(dloss), "loss": flat(loss),
            "dpred": flat(p.grad)}


def adamw(gen):
    n = 8
    p = torch.nn.Parameter(rand(gen, n).float())
    p0 = p.detach().clone()
    opt = torch.optim.AdamW([p], lr=1e-2, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.05)
    grads = []
    for _ in range(2):
        g = rand(gen, n).float()
        grads.append(flat(g))
        p.grad = g
        opt.step()
    st = opt.state[p]
    return {"lr": 1e-2, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "weight_decay": 0.05, "param_in": flat(p0),
            "grads": grads, "param": flat(p), "m": flat(st["exp_avg"]), "v": flat(st["exp_avg_sq"])}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "tests", "golden"))
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    gen = torch.Generator().manual_seed(1234)
    fixtures = {
        "conv2d": {"cases": [conv_case(gen, 1, 1, True), conv_case(gen, 2, 0, False), conv_case(gen, 2, 1, True)]},
        "batchnorm_train": batchnorm(gen),
        "cross_entropy": cross_entropy(gen),
        "bce_with_logits": bce(gen),
        "sigmoid_focal": {"cases": [focal(gen, 0.25, 2.0), focal(gen, -1.0, 1.5)]},
        "smooth_l1": {"cases": [smooth_l1(gen, 1.0), smooth_l1(gen, 0.5)]},
        "adamw": adamw(gen),
    }
    for name, data in fixtures.items():
        data["generator"] = f"tools/make_golden.py, torch {torch.__version__}"
        with open(os.path.join(args.out, name + ".json"), "w") as f:
            json.dump(data, f, separators=(",", ":"))
        print(name)


if __name__ == "__main__":
    main()
