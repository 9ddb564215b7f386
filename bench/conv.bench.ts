import './setup.js';
import { Tensor } from '../src/engine/tensor.js';
import { conv2dBackwardInput, conv2dBackwardWeight, conv2dForward, conv2dOutputShape } from '../src/kernels/conv.js';
import type { BenchRow, BenchSuite } from './harness.js';
import { secondsPerCall } from './harness.js';
import { TorchWorker, torchPythonFor } from './pytorch.js';
import { engineFor } from './setup.js';
import { tfjsWasm } from './tfjs-wasm.js';

// Every convolution of the zoo; conv1d layers run as conv2d with H = 1, as conv.ts does. An SNN runs
// its convolutions over T*B rows (T = 5 steps of batch 16: 80), where x and dy outgrow the caches:
// the Hjh layers are measured at both. The SNN's convolutions read spikes (its first one the encoded
// spectrogram, about 6% non-zero in the model bench; its second, pooled spikes, about 27%): with
// `spikes`, that fraction of x is 1 and the rest 0 (conv.ts then looks weights up by the inputs' bits,
// or visits only the non-zero inputs when they are few), and GFLOP/s counts the dense operations, so it
// compares with the dense rows as time does. Spike rows also time the dense and the sparse path and the
// lookup tables on the same spikes ('relaxed dense', 'relaxed sparse', 'relaxed tables':
// setSparsePolicy(1), (2), (3)). The 3-tap layers at stride 1
// (M5's conv2-conv4, Piczak's conv2) run through Winograd's F(4, 3) (conv-winograd.ts), half the
// multiply-adds, and so do 1-d layers past 3 taps or at a stride where the cost model folds them
// (conv-fold.ts: M5's conv1; TC-ResNet8's short rows stay plain); GFLOP/s still counts the direct
// correlation's, and 'relaxed plain' times every such layer through im2col + GEMM or the direct
// kernel (setSparsePolicy(4)), in the same run. With --pytorch, PyTorch's own kernels for the same
// layers (conv2d over NCHW through oneDNN, each of the three called alone: bench/pytorch/zoo.py) are a
// column of the same run; they are dense whatever x holds, so its spike rows time the dense kernels.
interface Layer {
  name: string; x: [number, number, number, number]; co: number; k: [number, number]; stride: [number, number]; padding: [number, number];
  spikes?: number;
}

const layers: Layer[] = [
  { name: 'M5 conv1d [16,1,4000]->128 k80 s4 p39', x: [16, 1, 1, 4000], co: 128, k: [1, 80], stride: [1, 4], padding: [0, 39] },
  { name: 'M5 conv1d [16,128,250]->128 k3', x: [16, 128, 1, 250], co: 128, k: [1, 3], stride: [1, 1], padding: [0, 0] },
  { name: 'M5 conv1d [16,128,62]->256 k3', x: [16, 128, 1, 62], co: 256, k: [1, 3], stride: [1, 1], padding: [0, 0] },
  { name: 'M5 conv1d [16,256,15]->512 k3', x: [16, 256, 1, 15], co: 512, k: [1, 3], stride: [1, 1], padding: [0, 0] },
  { name: 'Hjh conv2d [16,1,60,134]->8 5x5 same', x: [16, 1, 60, 134], co: 8, k: [5, 5], stride: [1, 1], padding: [2, 2] },
  { name: 'Hjh conv2d [16,8,30,67]->16 5x5 same', x: [16, 8, 30, 67], co: 16, k: [5, 5], stride: [1, 1], padding: [2, 2] },
  { name: 'Hjh SNN conv2d [80,1,60,134]->8 5x5 same', x: [80, 1, 60, 134], co: 8, k: [5, 5], stride: [1, 1], padding: [2, 2] },
  { name: 'Hjh SNN conv2d [80,8,30,67]->16 5x5 same', x: [80, 8, 30, 67], co: 16, k: [5, 5], stride: [1, 1], padding: [2, 2] },
  { name: 'Hjh SNN conv2d [80,1,60,134]->8 5x5 same, 6% spikes', x: [80, 1, 60, 134], co: 8, k: [5, 5], stride: [1, 1], padding: [2, 2], spikes: 0.06 },
  { name: 'Hjh SNN conv2d [80,8,30,67]->16 5x5 same, 27% spikes', x: [80, 8, 30, 67], co: 16, k: [5, 5], stride: [1, 1], padding: [2, 2], spikes: 0.27 },
  // M5's SNN: spikes pooled into conv2..conv4 at 80 rows; the issue measured 14-20% spike rates there.
  { name: 'M5 SNN conv1d [80,128,250]->128 k3, 15% spikes', x: [80, 128, 1, 250], co: 128, k: [1, 3], stride: [1, 1], padding: [0, 0], spikes: 0.15 },
  { name: 'M5 SNN conv1d [80,128,62]->256 k3, 15% spikes', x: [80, 128, 1, 62], co: 256, k: [1, 3], stride: [1, 1], padding: [0, 0], spikes: 0.15 },
  { name: 'M5 SNN conv1d [80,256,15]->512 k3, 15% spikes', x: [80, 256, 1, 15], co: 512, k: [1, 3], stride: [1, 1], padding: [0, 0], spikes: 0.15 },
  { name: 'M5 SNN conv1d [80,128,250]->128 k3, 40% spikes', x: [80, 128, 1, 250], co: 128, k: [1, 3], stride: [1, 1], padding: [0, 0], spikes: 0.4 },
  // BC-ResNet-3's SNN: a transition block's 1x1 convolution over the spikes of the block before.
  { name: 'BC-ResNet-3 SNN conv2d [80,48,20,101]->24 1x1, 20% spikes', x: [80, 48, 20, 101], co: 24, k: [1, 1], stride: [1, 1], padding: [0, 0], spikes: 0.2 },
  { name: 'Piczak conv2d [16,1,60,134]->80 57x6', x: [16, 1, 60, 134], co: 80, k: [57, 6], stride: [1, 1], padding: [0, 0] },
  { name: 'Piczak conv2d [16,80,4,43]->80 1x3', x: [16, 80, 4, 43], co: 80, k: [1, 3], stride: [1, 1], padding: [0, 0] },
  // TC-ResNet8's blocks: a strided 9-tap convolution, then one at stride 1 (blocks 1 and 3).
  { name: 'TC-ResNet8 conv1d [16,16,134]->24 k9 s2', x: [16, 16, 1, 134], co: 24, k: [1, 9], stride: [1, 2], padding: [0, 4] },
  { name: 'TC-ResNet8 conv1d [16,24,67]->24 k9', x: [16, 24, 1, 67], co: 24, k: [1, 9], stride: [1, 1], padding: [0, 4] },
  { name: 'TC-ResNet8 conv1d [16,32,34]->48 k9 s2', x: [16, 32, 1, 34], co: 48, k: [1, 9], stride: [1, 2], padding: [0, 4] },
  { name: 'TC-ResNet8 conv1d [16,48,17]->48 k9', x: [16, 48, 1, 17], co: 48, k: [1, 9], stride: [1, 1], padding: [0, 4] },
  // On 20 MFCC of 101 frames (npm start's input) the last one has 13 positions.
  { name: 'TC-ResNet8 conv1d [16,48,13]->48 k9', x: [16, 48, 1, 13], co: 48, k: [1, 9], stride: [1, 1], padding: [0, 4] },
];

// Plain-JavaScript baseline: direct loops, NCHW.
function jsConv(x: Float32Array, w: Float32Array, y: Float32Array, l: Layer, OH: number, OW: number): void {
  const [N, C, H, W] = l.x;
  const [KH, KW] = l.k;
  for (let n = 0; n < N; n++)
    for (let co = 0; co < l.co; co++)
      for (let oh = 0; oh < OH; oh++)
        for (let ow = 0; ow < OW; ow++) {
          let s = 0;
          for (let c = 0; c < C; c++)
            for (let kh = 0; kh < KH; kh++) {
              const ih = oh * l.stride[0] + kh - l.padding[0];
              if (ih < 0 || ih >= H) continue;
              for (let kw = 0; kw < KW; kw++) {
                const iw = ow * l.stride[1] + kw - l.padding[1];
                if (iw >= 0 && iw < W) s += x[((n * C + c) * H + ih) * W + iw] * w[((co * C + c) * KH + kh) * KW + kw];
              }
            }
          y[((n * l.co + co) * OH + oh) * OW + ow] = s;
        }
}

export const suite: BenchSuite = {
  name: 'Convolution layers of the zoo (one thread)',
  async run(all) {
    // Quick runs (the suite's smoke test) spend less time per measurement.
    const options = all.quick ? { ...all, time: Math.min(all.time, 150) } : all;
    const chosen = options.quick ? [layers[1], layers[4], layers[7], layers[9], layers[10]] : layers;
    const tf = await tfjsWasm();
    const python = torchPythonFor(options);
    const torch = python ? new TorchWorker(python) : null;
    if (torch) {
      const info = await torch.info();
      console.log(`PyTorch measured live: torch ${info.torch}, ${info.threads} thread, ${info.onednn}, CPU capability ${info.cpu_capability}; median of calls for about ${options.time} ms.`);
    }
    const rows: BenchRow[] = [];
    try {
      for (const l of chosen) {
        const [N, C] = l.x;
        const wShape = [l.co, C, ...l.k];
        const opts = { stride: l.stride, padding: l.padding };
        const yShape = conv2dOutputShape(l.x, wShape, opts);
        const [, , OH, OW] = yShape;
        const flop = 2 * N * l.co * OH * OW * C * l.k[0] * l.k[1];
        const fwd: Record<string, number> = {};
        const dx: Record<string, number> = {};
        const dw: Record<string, number> = {};
        for (const flavor of ['relaxed', 'simd'] as const) {
          const engine = await engineFor(flavor);
          const x = Tensor.zeros(l.x).fill(0.5);
          if (l.spikes !== undefined) {
            // A fixed scatter of spikes: Weyl sequence of the golden ratio.
            const xs = x.f32;
            for (let i = 0; i < xs.length; i++) xs[i] = (i * 0.6180339887) % 1 < l.spikes ? 1 : 0;
          }
          const w = Tensor.zeros(wShape).fill(0.01);
          const b = Tensor.zeros([l.co]);
          const y = Tensor.zeros(yShape);
          const gx = Tensor.zeros(l.x);
          const gw = Tensor.zeros(wShape);
          fwd[flavor] = flop / (await secondsPerCall(() => conv2dForward(x, w, b, y, opts), options)) / 1e9;
          dx[flavor] = flop / (await secondsPerCall(() => conv2dBackwardInput(w, y, gx, opts), options)) / 1e9;
          dw[flavor] = flop / (await secondsPerCall(() => conv2dBackwardWeight(x, y, gw, b, opts), options)) / 1e9;
          if (flavor === 'relaxed' && ((l.k[1] === 3 && l.stride[1] === 1) || (l.x[2] === 1 && l.k[0] === 1 && l.k[1] > 1))) {
            engine.kernels.setSparsePolicy(4);
            fwd['relaxed plain'] = flop / (await secondsPerCall(() => conv2dForward(x, w, b, y, opts), options)) / 1e9;
            dx['relaxed plain'] = flop / (await secondsPerCall(() => conv2dBackwardInput(w, y, gx, opts), options)) / 1e9;
            dw['relaxed plain'] = flop / (await secondsPerCall(() => conv2dBackwardWeight(x, y, gw, b, opts), options)) / 1e9;
            engine.kernels.setSparsePolicy(0);
          }
          if (l.spikes !== undefined && flavor === 'relaxed') {
            for (const [policy, path] of [[1, 'dense'], [2, 'sparse'], [3, 'tables']] as const) {
              engine.kernels.setSparsePolicy(policy);
              fwd[`relaxed ${path}`] = flop / (await secondsPerCall(() => conv2dForward(x, w, b, y, opts), options)) / 1e9;
              dw[`relaxed ${path}`] = flop / (await secondsPerCall(() => conv2dBackwardWeight(x, y, gw, b, opts), options)) / 1e9;
            }
            engine.kernels.setSparsePolicy(0);
          }
          for (const t of [x, w, b, y, gx, gw]) t.free();
        }
        let note: string | undefined;
        if (l === layers[4]) {
          // One sample: the loops take about 15 ms each, and GFLOP/s does not depend on the batch.
          const one: Layer = { ...l, x: [1, l.x[1], l.x[2], l.x[3]] };
          const x = new Float32Array(one.x.reduce((a, v) => a * v)).fill(0.5);
          const w = new Float32Array(wShape.reduce((a, v) => a * v)).fill(0.01);
          const y = new Float32Array(l.co * OH * OW);
          fwd.js = flop / N / (await secondsPerCall(() => jsConv(x, w, y, one, OH, OW), options)) / 1e9;
          note = 'js: one sample';
        }
        if (tf && l.spikes === undefined) {
          // tfjs works channels-last (NHWC, filter [KH, KW, C, CO]), its native layout.
          const [, , H, W] = l.x;
          const x = tf.fill([N, H, W, C], 0.5) as import('@tensorflow/tfjs-core').Tensor4D;
          const w = tf.fill([l.k[0], l.k[1], C, l.co], 0.01) as import('@tensorflow/tfjs-core').Tensor4D;
          const pad: [[number, number], [number, number], [number, number], [number, number]] =
            [[0, 0], [l.padding[0], l.padding[0]], [l.padding[1], l.padding[1]], [0, 0]];
          const dy = tf.fill([N, OH, OW, l.co], 0.5) as import('@tensorflow/tfjs-core').Tensor4D;
          fwd['tfjs-wasm'] = flop / (await secondsPerCall(() => tf.conv2d(x, w, l.stride, pad).dispose(), options)) / 1e9;
          try {
            const attrs = { strides: l.stride, pad, dataFormat: 'NHWC', dimRoundingMode: undefined, inputShape: [N, H, W, C] };
            const back = () => (tf.engine().runKernel('Conv2DBackpropInput', { dy, filter: w }, attrs as never) as { dispose(): void }).dispose();
            back();
            dx['tfjs-wasm'] = flop / (await secondsPerCall(back, options)) / 1e9;
          } catch {
            // No input-gradient kernel for this padding in tfjs-wasm: the column stays empty.
          }
          for (const t of [x, w, dy]) t.dispose();
        }
        if (torch) {
          const t = await torch.conv(l, options.time / 1000);
          fwd.pytorch = flop / t.forward / 1e9;
          dx.pytorch = flop / t.dx / 1e9;
          dw.pytorch = flop / t.dw / 1e9;
        }
        rows.push({ case: `${l.name} forward`, unit: 'GFLOP/s', values: fwd, note });
        rows.push({ case: `${l.name} dx`, unit: 'GFLOP/s', values: dx });
        rows.push({ case: `${l.name} dw`, unit: 'GFLOP/s', values: dw, note: 'tfjs-wasm has no weight gradient' });
      }
    } finally {
      torch?.close();
    }
    return rows;
  },
};
