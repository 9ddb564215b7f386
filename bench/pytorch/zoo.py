#!/usr/bin/env python3
"""The model zoo of src/models/zoo.ts in plain PyTorch, the live baseline of bench/models.bench.ts.

Same layers and sizes as the zoo (m5, piczak, hjh, hjh-scnn, tcy, tcresnet8, bcresnet) and SNN twins built the
way src/models/spiking.ts builds ours: repeat encoding over T steps, the trunk's ReLUs (everything
before the first Linear) replaced by LIF neurons of the same form as src/kernels/lif.ts (current form,
subtract reset, ATan surrogate with alpha 2, beta 0.5, threshold 1, written as snntorch's Leaky per
step), logits summed over the steps, cross-entropy (mean over the batch) and Adam.

It runs the same computation as our engine, so the ratio compares engines and not algorithms:
  * the repeated input is kept once, [B, ...], until the first LIF; the layers before it run once per
    batch and the LIF adds the same current at every step (exact: they would see the same input at
    every step). Our engine does the same (src/layers/encoder.ts, src/layers/leaky.ts);
  * after the first LIF the steps are folded into the batch, time-major [T * B, ...], so every layer
    but the LIF runs once over all steps (batch norm takes its statistics over T * B rows, as ours);
    the LIF loops over the steps.

Driven over stdin/stdout, one JSON object a line each way (bench/models.bench.ts does it):
  {"cmd": "info"}                                        -> torch version, threads, BLAS, oneDNN
  {"cmd": "build", "model": "hjh", "spiking": true, "steps": 5, "batch": 16, "classes": 35}
                                                         -> parameter count, layers run once
  {"cmd": "time", "steps": 20, "budget": 2.0, "warmup": 2}
      -> {"seconds": [...]}: seconds of each training step, at most `steps` of them and no more
         once `budget` seconds have passed (but at least 3), after `warmup` untimed ones
  {"cmd": "conv", "x": [16, 128, 1, 250], "co": 128, "k": [1, 3], "stride": [1, 1], "padding": [0, 0], "budget": 0.5}
      -> {"forward": s, "dx": s, "dw": s}: median seconds of one call of each of a convolution's three
         kernels alone (bench/conv.bench.ts), as conv2d over NCHW like ours; dw includes the bias's
  {"cmd": "memory"}  -> peak RSS of this process minus its RSS after `import torch` (bytes)
  {"cmd": "quit"}
Every answer is {"ok": true, ...} or {"ok": false, "error": "..."}.

Run one process per model: the peak RSS is a high-water mark of the whole process.
"""
import json
import math
import os
import re
import resource
import sys
import time
from collections import OrderedDict

import torch
import torch.nn as nn
import torch.nn.functional as F

# One thread unless the bench asks for more (bench/pytorch.ts sets OMP_NUM_THREADS to --threads).
torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
try:
    torch.set_num_interop_threads(1)
except RuntimeError:
    pass
# ru_maxrss is in KiB on Linux (bytes on macOS).
RSS_UNIT = 1 if sys.platform == "darwin" else 1024
BASELINE_RSS = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * RSS_UNIT

# --- the neuron -----------------------------------------------------------------------------------


class ATanSpike(torch.autograd.Function):
    """S = H(x), x = U - threshold; backward (alpha/2) / (1 + (pi/2 * alpha * x)^2): snntorch's ATan."""

    @staticmethod
    def forward(ctx, x, alpha):
        ctx.save_for_backward(x)
        ctx.alpha = alpha
        return (x > 0).to(x.dtype)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        a = ctx.alpha
        return grad * (a / 2) / (1 + (math.pi / 2 * a * x) ** 2), None


class LIF(nn.Module):
    """snntorch's Leaky, current form, subtract reset, over `steps` steps from a zero membrane:
    U[t] = beta * U[t-1] + I[t] - R[t] * threshold, R[t] = H(U[t-1] - threshold) (no gradient),
    S[t] = H(U[t] - threshold). Input [B, ...] (the same current at every step) or [T * B, ...]
    time-major; output [T * B, ...] spikes."""

    def __init__(self, steps, batch, beta=0.5, threshold=1.0, alpha=2.0):
        super().__init__()
        self.steps, self.batch, self.beta, self.threshold, self.alpha = steps, batch, beta, threshold, alpha

    def forward(self, x):
        once = x.shape[0] == self.batch
        mem = torch.zeros_like(x[: self.batch])
        out = []
        for t in range(self.steps):
            current = x if once else x[t * self.batch : (t + 1) * self.batch]
            reset = (mem > self.threshold).to(x.dtype)  # a comparison: carries no gradient
            mem = self.beta * mem + current - reset * self.threshold
            out.append(ATanSpike.apply(mem - self.threshold, self.alpha))
        return torch.cat(out)


# --- the zoo, as CNNs (layer names as in src/models/zoo.ts) ---------------------------------------


class Residual(nn.Module):
    """y = main(x) + shortcut(x) (src/layers/residual.ts)."""

    def __init__(self, main, shortcut):
        super().__init__()
        self.main = nn.Sequential(OrderedDict(main))
        self.shortcut = nn.Sequential(OrderedDict(shortcut))

    def forward(self, x):
        return self.main(x) + self.shortcut(x)


class Reshape(nn.Module):
    def __init__(self, shape):
        super().__init__()
        self.shape = tuple(shape)

    def forward(self, x):
        return x.reshape(x.shape[0], *self.shape)


def m5(classes):
    def block(i, cin, cout, kernel, stride=1, padding=0):
        return [
            (f"conv{i}", nn.Conv1d(cin, cout, kernel, stride=stride, padding=padding)),
            (f"bn{i}", nn.BatchNorm1d(cout)),
            (f"relu{i}", nn.ReLU()),
            (f"pool{i}", nn.MaxPool1d(4)),
        ]

    return [
        *block(1, 1, 128, 80, 4, 39),
        *block(2, 128, 128, 3),
        *block(3, 128, 256, 3),
        *block(4, 256, 512, 3),
        ("avgpool", nn.AdaptiveAvgPool1d(1)),
        ("flatten", nn.Flatten()),
        ("fc", nn.Linear(512, classes)),
    ]


def piczak(classes):
    return [
        ("conv1", nn.Conv2d(1, 80, (57, 6))),
        ("pool1", nn.MaxPool2d((4, 3), (1, 3))),
        ("drop1", nn.Dropout(0.5)),
        ("relu1", nn.ReLU()),
        ("conv2", nn.Conv2d(80, 80, (1, 3))),
        ("pool2", nn.MaxPool2d((1, 3), (1, 3))),
        ("relu2", nn.ReLU()),
        ("avgpool", nn.AdaptiveAvgPool2d((1, 1))),
        ("flatten", nn.Flatten()),
        ("fc1", nn.Linear(80, 5000)),
        ("drop3", nn.Dropout(0.5)),
        ("relu3", nn.ReLU()),
        ("fc2", nn.Linear(5000, 5000)),
        ("drop4", nn.Dropout(0.5)),
        ("relu4", nn.ReLU()),
        ("fc3", nn.Linear(5000, classes)),
    ]


def hjh(classes):
    return [
        ("conv1", nn.Conv2d(1, 8, 5, padding=2)),
        ("bn1", nn.BatchNorm2d(8)),
        ("relu1", nn.ReLU()),
        ("pool1", nn.MaxPool2d(2)),
        ("conv2", nn.Conv2d(8, 16, 5, padding=2)),
        ("bn2", nn.BatchNorm2d(16)),
        ("relu2", nn.ReLU()),
        ("avgpool", nn.AdaptiveAvgPool2d((1, 1))),
        ("flatten", nn.Flatten()),
        ("fc", nn.Linear(16, classes)),
    ]


def tcy(classes):
    return [("avgpool", nn.AdaptiveAvgPool2d((10, 10))), ("flatten", nn.Flatten()), ("fc", nn.Linear(100, classes))]


def tcresnet8(classes, bands=60, frames=134):
    def block(i, cin, cout):
        n = lambda layer: f"block{i}.{layer}"
        main = [
            (n("conv1"), nn.Conv1d(cin, cout, 9, stride=2, padding=4)),
            (n("bn1"), nn.BatchNorm1d(cout)),
            (n("relu1"), nn.ReLU()),
            (n("conv2"), nn.Conv1d(cout, cout, 9, padding=4)),
            (n("bn2"), nn.BatchNorm1d(cout)),
            (n("relu2"), nn.ReLU()),
        ]
        shortcut = [
            (n("down"), nn.Conv1d(cin, cout, 1, stride=2)),
            (n("bndown"), nn.BatchNorm1d(cout)),
            (n("reludown"), nn.ReLU()),
        ]
        # nn.Sequential refuses dots in names: the dotted name goes in `label` below.
        return (f"block{i}", Residual([(k.replace(".", "_"), m) for k, m in main], [(k.replace(".", "_"), m) for k, m in shortcut]))

    return [
        ("bands", Reshape((bands, frames))),
        ("conv0", nn.Conv1d(bands, 16, 3, padding=1)),
        block(1, 16, 24),
        block(2, 24, 32),
        block(3, 32, 48),
        ("avgpool", nn.AdaptiveAvgPool1d(1)),
        ("flatten", nn.Flatten()),
        ("fc", nn.Linear(48, classes)),
    ]


class MeanRows(nn.Module):
    """[B, C, H, W] -> [B, C, 1, W]: the mean over frequency (src/layers/rows.ts)."""

    def forward(self, x):
        return x.mean(2, keepdim=True)


class BroadcastRows(nn.Module):
    """[B, C, 1, W] -> [B, C, H, W]: the row repeated down H rows (src/layers/rows.ts)."""

    def __init__(self, height):
        super().__init__()
        self.height = height

    def forward(self, x):
        return x.expand(-1, -1, self.height, -1)


def bcresnet(classes, bands=40, frames=101, width=3, sub_bands=5):
    """BC-ResNet-3 as src/models/zoo.ts builds it: depthwise convolutions are Conv2d with groups = channels."""
    ch = lambda base: base * width
    freq = (bands - 1) // 2 + 1
    dotted = lambda items: [(k.replace(".", "_"), m) for k, m in items]

    def block(i, cin, cout, stride, dilation):
        nonlocal freq
        n = lambda layer: f"block{i}.{layer}"
        head = [] if cin == cout else [
            (n("conv1x1"), nn.Conv2d(cin, cout, 1, bias=False)),
            (n("bn0"), nn.BatchNorm2d(cout)),
            (n("relu0"), nn.ReLU()),
        ]
        freq = (freq - 1) // stride + 1
        f1 = [
            (n("freq"), nn.Conv2d(cout, cout, (3, 1), stride=(stride, 1), padding=(1, 0), groups=cout, bias=False)),
            (n("ssn.split"), Reshape((cout * sub_bands, freq // sub_bands, frames))),
            (n("ssn.bn"), nn.BatchNorm2d(cout * sub_bands)),
            (n("ssn.join"), Reshape((cout, freq, frames))),
        ]
        f2 = (n("broadcast"), Residual(dotted([
            (n("avgfreq"), MeanRows()),
            (n("time"), nn.Conv2d(cout, cout, (1, 3), padding=(0, dilation), dilation=(1, dilation), groups=cout, bias=False)),
            (n("bn1"), nn.BatchNorm2d(cout)),
            (n("relu1"), nn.ReLU()),
            (n("pointwise"), nn.Conv2d(cout, cout, 1)),
            (n("spread"), BroadcastRows(freq)),
        ]), []))
        body = [*f1, f2]
        if cin == cout:
            return [(f"block{i}", Residual(dotted(body), [])), (n("relu"), nn.ReLU())]
        return [*head, *body, (n("relu"), nn.ReLU())]

    layers = [
        ("conv0", nn.Conv2d(1, ch(16), 5, stride=(2, 1), padding=2, bias=False)),
        ("bn0", nn.BatchNorm2d(ch(16))),
        ("relu0", nn.ReLU()),
    ]
    cin, i = ch(16), 1
    for count, cout, stride, dilation in [(2, ch(8), 1, 1), (2, ch(12), 2, 2), (4, ch(16), 2, 4), (4, ch(20), 1, 8)]:
        for k in range(count):
            layers += block(i, cin, cout, stride if k == 0 else 1, dilation)
            cin, i = cout, i + 1
    return dotted(layers + [
        ("head.freq", nn.Conv2d(cin, cin, (freq, 5), padding=(0, 2), groups=cin, bias=False)),
        ("head.conv1x1", nn.Conv2d(cin, ch(32), 1, bias=False)),
        ("head.bn", nn.BatchNorm2d(ch(32))),
        ("head.relu", nn.ReLU()),
        ("avgpool", nn.AdaptiveAvgPool2d((1, 1))),
        ("flatten", nn.Flatten()),
        ("fc", nn.Linear(ch(32), classes)),
    ])


ARCHITECTURES = {"m5": m5, "piczak": piczak, "hjh": hjh, "tcy": tcy, "tcresnet8": tcresnet8, "bcresnet": bcresnet}
INPUT_SHAPES = {"m5": (1, 4000), "piczak": (1, 60, 134), "hjh": (1, 60, 134), "hjh-scnn": (1, 60, 134), "tcy": (1, 60, 134), "tcresnet8": (1, 60, 134), "bcresnet": (1, 40, 101)}
# src/models/spiking.ts: a LIF on the (encoded) input; replace the trunk's ReLUs.
MIGRATIONS = {
    "m5": (False, True),
    "piczak": (False, True),
    "hjh": (True, True),
    "hjh-scnn": (True, False),
    "tcy": (True, True),
    "tcresnet8": (False, True),
    "bcresnet": (False, True),
}


def to_spiking(layers, name, steps, batch):
    """spiking.ts's toSpiking: a LIF in front when the migration asks for one, and every ReLU of the
    trunk (before the first Linear, blocks opened up) a LIF named lif<i>."""
    input_lif, convert = MIGRATIONS[name]
    out = [("lif0", LIF(steps, batch))] if input_lif else []
    trunk = True

    def convert_list(items):
        res = []
        for key, m in items:
            if convert and trunk and isinstance(m, nn.ReLU):
                res.append((re.sub(r"relu", "lif", key, count=1), LIF(steps, batch)))
            elif isinstance(m, Residual):
                res.append((key, Residual(convert_list(m.main.named_children()), convert_list(m.shortcut.named_children()))))
            else:
                res.append((key, m))
        return res

    for key, m in layers:
        if isinstance(m, nn.Linear):
            trunk = False
        out.extend(convert_list([(key, m)]))
    return out


class Net(nn.Module):
    def __init__(self, name, spiking, steps, batch, classes):
        super().__init__()
        layers = ARCHITECTURES["hjh" if name == "hjh-scnn" else name](classes)
        if spiking:
            layers = to_spiking(layers, name, steps, batch)
        self.layers = nn.Sequential(OrderedDict(layers))
        self.spiking, self.steps, self.batch, self.classes = spiking, steps, batch, classes
        for key, m in self.layers.named_modules():
            # Our names: block1.conv1, not block1.main.block1_conv1.
            m.label = key.split(".")[-1].replace("_", ".")

    def forward(self, x):
        h = self.layers(x)  # repeat encoding: x as is, [B, ...], until the first LIF
        return h.reshape(self.steps, self.batch, self.classes).sum(0) if self.spiking else h


# --- the driver ------------------------------------------------------------------------------------


def libraries():
    """The BLAS, oneDNN and OpenMP libraries loaded in this process (after a matmul and a conv)."""
    a = torch.ones(8, 8)
    _ = a @ a, F.conv2d(torch.ones(2, 1, 8, 8), torch.ones(2, 1, 3, 3))
    try:
        with open("/proc/self/maps") as f:
            paths = {line.split()[-1] for line in f if "/" in line}
    except OSError:
        return {}
    found = {}
    for p in sorted(paths):
        base = os.path.basename(p)
        for kind, pattern in (("blas", r"blas|mkl_rt|blis|atlas"), ("lapack", r"lapack"), ("onednn", r"dnnl|mkldnn"), ("openmp", r"gomp|iomp|libomp")):
            if re.search(pattern, base):
                found.setdefault(kind, []).append((p, base))
    return found


def blas_name(entries):
    if not entries:
        return "none loaded"
    p, base = entries[0]
    low = p.lower()
    if "openblas" in low:
        kind = "OpenBLAS"
    elif "mkl" in low:
        kind = "MKL"
    elif "blis" in low:
        kind = "BLIS"
    elif "atlas" in low:
        kind = "ATLAS"
    elif re.search(r"/blas/libblas\.so", low):
        kind = "netlib reference BLAS (Debian's libblas3)"
    else:
        kind = "unknown"
    return f"{base}: {kind}"


def info():
    config = torch.__config__.show()
    settings = dict(re.findall(r"(\w+)=([^,\n]*)", config))
    onednn = re.search(r"MKL-DNN v[\d.]+|oneDNN v[\d.]+", config)
    libs = libraries()
    return {
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "interop_threads": torch.get_num_interop_threads(),
        "blas_info": settings.get("BLAS_INFO", "?"),
        "blas": blas_name(libs.get("blas")),
        "onednn": (onednn.group(0) if onednn else "none") + (" (available)" if torch.backends.mkldnn.is_available() else " (not available)"),
        "cpu_capability": (re.search(r"CPU capability usage: (\w+)", config) or [None, "?"])[1],
        "python": sys.version.split()[0],
        # glibc reads these at start-up; bench/pytorch.ts sets both so that steps reuse the heap's pages.
        "malloc": {k: os.environ.get(k, "default") for k in ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_")},
    }


class Rig:
    def __init__(self, model, spiking, steps, batch, classes):
        torch.manual_seed(1)
        self.net = Net(model, spiking, steps if spiking else 1, batch, classes)
        shape = (batch, *INPUT_SHAPES[model])
        # The bench's input, sin(i * 12.9898) * cos(i * 0.37), in float64 then float32 as in JS.
        i = torch.arange(math.prod(shape), dtype=torch.float64)
        self.x = (torch.sin(i * 12.9898) * torch.cos(i * 0.37)).to(torch.float32).reshape(shape)
        self.labels = torch.arange(batch) % classes
        self.opt = torch.optim.Adam(self.net.parameters(), lr=1e-4)
        self.net.train()

    def once(self):
        """Labels of the layers that ran on [B, ...] rows (once per batch) in a spiking model."""
        if not self.net.spiking:
            return []
        seen = []
        hooks = [
            m.register_forward_hook(lambda m, inp, out: seen.append(m.label) if inp[0].shape[0] == self.net.batch else None)
            for m in self.net.layers.modules()
            if not isinstance(m, (nn.Sequential, Residual, LIF))
        ]
        with torch.no_grad():
            self.net(self.x)
        for h in hooks:
            h.remove()
        return seen

    def step(self):
        self.opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(self.net(self.x), self.labels)
        loss.backward()
        self.opt.step()
        return loss


def conv_seconds(req):
    """Median seconds per call of a convolution's forward, input gradient and weight gradient (with
    the bias's), each through aten's own kernel: convolution_backward with one output asked for, as
    autograd calls it for a layer whose input does not need a gradient."""
    torch.manual_seed(0)
    x = torch.rand(req["x"])
    n, c = req["x"][0], req["x"][1]
    w = torch.rand(req["co"], c, *req["k"]) * 0.01
    b = torch.zeros(req["co"])
    stride, padding = list(req["stride"]), list(req["padding"])
    y = F.conv2d(x, w, b, stride, padding)
    dy = torch.rand_like(y)

    def back(mask):
        return lambda: torch.ops.aten.convolution_backward(dy, x, w, [req["co"]], stride, padding, [1, 1], False, [0, 0], 1, mask)

    kernels = {"forward": lambda: F.conv2d(x, w, b, stride, padding), "dx": back([True, False, False]), "dw": back([False, True, True])}
    budget = float(req.get("budget", 0.5))
    out = {}
    with torch.no_grad():
        for name, f in kernels.items():
            for _ in range(2):
                f()
            seconds, start = [], time.perf_counter()
            while len(seconds) < 5 or (time.perf_counter() - start < budget and len(seconds) < 1000):
                t0 = time.perf_counter()
                f()
                seconds.append(time.perf_counter() - t0)
            seconds.sort()
            out[name] = seconds[len(seconds) // 2]
    return out


def main():
    rig = None
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            req = json.loads(line)
            cmd = req.get("cmd")
            if cmd == "info":
                ans = info()
            elif cmd == "build":
                rig = Rig(req["model"], bool(req["spiking"]), int(req.get("steps", 1)), int(req["batch"]), int(req["classes"]))
                ans = {"params": sum(p.numel() for p in rig.net.parameters() if p.requires_grad), "once": rig.once()}
            elif cmd == "time":
                if rig is None:
                    raise RuntimeError("time before build")
                for _ in range(int(req.get("warmup", 0))):
                    rig.step()
                budget, seconds, start = float(req.get("budget", math.inf)), [], time.perf_counter()
                while len(seconds) < int(req["steps"]) and (len(seconds) < 3 or time.perf_counter() - start < budget):
                    t0 = time.perf_counter()
                    rig.step()
                    seconds.append(time.perf_counter() - t0)
                ans = {"seconds": seconds}
            elif cmd == "conv":
                ans = conv_seconds(req)
            elif cmd == "memory":
                peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * RSS_UNIT
                ans = {"peak_rss_delta": peak - BASELINE_RSS, "baseline_rss": BASELINE_RSS}
            elif cmd == "quit":
                print(json.dumps({"ok": True}), flush=True)
                return
            else:
                raise ValueError(f"unknown command {cmd!r}")
            print(json.dumps({"ok": True, **ans}), flush=True)
        except Exception as e:  # answered, so the bench can say what went wrong
            print(json.dumps({"ok": False, "error": f"{type(e).__name__}: {e}"}), flush=True)


if __name__ == "__main__":
    main()
