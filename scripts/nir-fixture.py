"""Writes test/fixtures/snntorch-small.nir and its expected outputs (snntorch-small.json).

A small spiking network laid out as snnTorch's export_to_nir writes one, built with NIR's reference
package, so the importer is tested against a file it did not write itself:

    Input [2, 6] -> Conv1d (2 -> 3, kernel 3, padding 1) -> LIF -> Flatten -> Affine (18 -> 4) -> LIF -> Output [4]

snnTorch's Leaky -> LIF mapping: tau = dt / (1 - beta), r = tau / dt, v_leak = 0, v_reset = 0, with
snnTorch's dt = 1e-4 (so beta is recovered as 1 - dt/tau = 1 - 1/r whatever dt was). No snn-voice
metadata: the reader gives the neurons NIR's own dynamics, one step per time step,

    U[t] = beta * U'[t-1] + I[t],   S[t] = (U[t] > v_threshold),   U'[t] = 0 if S[t] else U[t]

and the expected logits are the last layer's spikes summed over T steps of the same input.

Run: apt-get install -y python3-h5py, then from the repository root
    PYTHONPATH=<NIR reference package> /usr/bin/python3 scripts/nir-fixture.py
"""

import json
import pathlib

import numpy as np
import nir

if not hasattr(nir, "version"):
    # The reference package reads its version from its installed metadata; a source checkout has none.
    nir.version = "1.0.0"

STEPS = 6
DT = 1e-4
rng = np.random.default_rng(20261203)


def lif(beta, threshold, shape):
    tau = np.full(shape, DT / (1 - beta), dtype=np.float32)
    return nir.LIF(
        tau=tau,
        r=(tau / DT).astype(np.float32),
        v_leak=np.zeros(shape, dtype=np.float32),
        v_threshold=np.full(shape, threshold, dtype=np.float32),
        v_reset=np.zeros(shape, dtype=np.float32),
    )


conv_w = rng.normal(0, 0.8, (3, 2, 3)).astype(np.float32)
conv_b = rng.normal(0, 0.2, (3,)).astype(np.float32)
fc_w = rng.normal(0, 0.6, (4, 18)).astype(np.float32)
fc_b = rng.normal(0.3, 0.2, (4,)).astype(np.float32)
beta1, thr1, beta2, thr2 = 0.875, 1.0, 0.75, 0.5

nodes = {
    "input": nir.Input(input_type=np.array([2, 6])),
    "conv": nir.Conv1d(input_shape=6, weight=conv_w, stride=np.array([1]), padding=np.array([1]),
                       dilation=np.array([1]), groups=1, bias=conv_b),
    "lif1": lif(beta1, thr1, (3, 6)),
    "flatten": nir.Flatten(input_type={"input": np.array([3, 6])}, start_dim=0, end_dim=-1),
    "fc": nir.Affine(weight=fc_w, bias=fc_b),
    "lif2": lif(beta2, thr2, (4,)),
    "output": nir.Output(output_type=np.array([4])),
}
edges = [("input", "conv"), ("conv", "lif1"), ("lif1", "flatten"), ("flatten", "fc"), ("fc", "lif2"), ("lif2", "output")]
graph = nir.NIRGraph(nodes=nodes, edges=edges, type_check=True)

# Two samples, inputs in [0, 2).
x = rng.uniform(0, 2, (2, 2, 6)).astype(np.float32)


def conv1d(sample):
    padded = np.pad(sample, ((0, 0), (1, 1)))
    return np.stack([[np.sum(conv_w[o] * padded[:, i:i + 3]) + conv_b[o] for i in range(6)] for o in range(3)]).astype(np.float32)


def run(sample):
    i1 = conv1d(sample)
    u1, u2 = np.zeros((3, 6), np.float32), np.zeros(4, np.float32)
    total = np.zeros(4, np.float32)
    for _ in range(STEPS):
        u1 = (np.float32(beta1) * u1 + i1).astype(np.float32)
        s1 = (u1 > thr1).astype(np.float32)
        u1 = np.where(s1 > 0, 0, u1).astype(np.float32)
        i2 = (fc_w @ s1.reshape(-1) + fc_b).astype(np.float32)
        u2 = (np.float32(beta2) * u2 + i2).astype(np.float32)
        s2 = (u2 > thr2).astype(np.float32)
        u2 = np.where(s2 > 0, 0, u2).astype(np.float32)
        total += s2
    return total


out = np.stack([run(s) for s in x])
here = pathlib.Path(__file__).resolve().parent.parent / "test" / "fixtures"
nir.write(here / "snntorch-small.nir", graph)
(here / "snntorch-small.json").write_text(json.dumps({
    "steps": STEPS,
    "inputShape": [2, 2, 6],
    "input": [float(v) for v in x.reshape(-1)],
    "logits": [float(v) for v in out.reshape(-1)],
}, indent=1) + "\n")
print("wrote", here / "snntorch-small.nir", "logits", out.tolist())
