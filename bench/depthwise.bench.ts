import './setup.js';
import { Tensor } from '../src/engine/tensor.js';
import { depthwiseBackwardInput, depthwiseBackwardWeight, depthwiseForward, depthwiseOutputShape, type DepthwiseOptions } from '../src/kernels/depthwise.js';
import type { BenchRow, BenchSuite } from './harness.js';
import { secondsPerCall } from './harness.js';
import { engineFor } from './setup.js';
import { tfjsWasm } from './tfjs-wasm.js';

// BC-ResNet-3's depthwise convolutions at batch 16 (the CNN's rows; its SNN runs them over 80): a 3x1
// frequency filter per block, a strided one where a stage halves the bands, a dilated 1x3 time filter
// over the frequency average, and the head's 5x5. Each does K multiply-adds per output, so the rows
// are memory-bound: GFLOP/s counts 2·K per output. tfjs-wasm runs the same forward channels-last
// (its native layout); its input and weight gradients (DepthwiseConv2dNativeBackpropInput / Filter)
// are timed where the backend has them.
interface Layer { name: string; x: [number, number, number, number]; k: [number, number]; opts: Required<DepthwiseOptions> }

const layer = (name: string, x: Layer['x'], k: Layer['k'], stride: [number, number], padding: [number, number], dilation: [number, number] = [1, 1]): Layer =>
  ({ name, x, k, opts: { stride, padding, dilation } });

const layers: Layer[] = [
  layer('block1.freq [16,24,20,101] 3x1', [16, 24, 20, 101], [3, 1], [1, 1], [1, 0]),
  layer('block3.freq [16,36,20,101] 3x1 stride [2,1]', [16, 36, 20, 101], [3, 1], [2, 1], [1, 0]),
  layer('block9.time [16,60,1,101] 1x3 dilation 8', [16, 60, 1, 101], [1, 3], [1, 1], [0, 8], [1, 8]),
  layer('head.freq [16,60,5,101] 5x5', [16, 60, 5, 101], [5, 5], [1, 1], [0, 2]),
];

// Plain-JavaScript baseline: direct loops over NCHW with bounds checks.
function jsDepthwise(x: Float32Array, w: Float32Array, y: Float32Array, l: Layer, OH: number, OW: number): void {
  const [N, C, H, W] = l.x;
  const [KH, KW] = l.k;
  const { stride: [SH, SW], padding: [PH, PW], dilation: [DH, DW] } = l.opts;
  for (let n = 0; n < N; n++)
    for (let c = 0; c < C; c++)
      for (let oh = 0; oh < OH; oh++)
        for (let ow = 0; ow < OW; ow++) {
          let s = 0;
          for (let kh = 0; kh < KH; kh++) {
            const ih = oh * SH + kh * DH - PH;
            if (ih < 0 || ih >= H) continue;
            for (let kw = 0; kw < KW; kw++) {
              const iw = ow * SW + kw * DW - PW;
              if (iw >= 0 && iw < W) s += x[((n * C + c) * H + ih) * W + iw] * w[(c * KH + kh) * KW + kw];
            }
          }
          y[((n * C + c) * OH + oh) * OW + ow] = s;
        }
}

export const suite: BenchSuite = {
  name: 'Depthwise convolutions of BC-ResNet-3 (one thread)',
  async run(all) {
    const options = all.quick ? { ...all, time: Math.min(all.time, 150) } : all;
    const chosen = options.quick ? [layers[0], layers[3]] : layers;
    const tf = await tfjsWasm();
    const rows: BenchRow[] = [];
    for (const l of chosen) {
      const [N, C, H, W] = l.x;
      const wShape = [C, 1, ...l.k];
      const yShape = depthwiseOutputShape(l.x, wShape, l.opts);
      const [, , OH, OW] = yShape;
      const flop = 2 * N * C * OH * OW * l.k[0] * l.k[1];
      const fwd: Record<string, number> = {};
      const dx: Record<string, number> = {};
      const dw: Record<string, number> = {};
      for (const flavor of ['relaxed', 'simd'] as const) {
        await engineFor(flavor);
        const x = Tensor.zeros(l.x).fill(0.5);
        const w = Tensor.zeros(wShape).fill(0.01);
        const b = Tensor.zeros([C]);
        const y = Tensor.zeros(yShape).fill(0.5);
        const gx = Tensor.zeros(l.x);
        const gw = Tensor.zeros(wShape);
        fwd[flavor] = flop / (await secondsPerCall(() => depthwiseForward(x, w, b, y, l.opts), options)) / 1e9;
        dx[flavor] = flop / (await secondsPerCall(() => depthwiseBackwardInput(w, y, gx, l.opts), options)) / 1e9;
        dw[flavor] = flop / (await secondsPerCall(() => depthwiseBackwardWeight(x, y, gw, b, l.opts), options)) / 1e9;
        for (const t of [x, w, b, y, gx, gw]) t.free();
      }
      {
        const x = new Float32Array(N * C * H * W).fill(0.5);
        const w = new Float32Array(C * l.k[0] * l.k[1]).fill(0.01);
        const y = new Float32Array(N * C * OH * OW);
        fwd.js = flop / (await secondsPerCall(() => jsDepthwise(x, w, y, l, OH, OW), options)) / 1e9;
      }
      // tfjs's depthwise filter is [KH, KW, C, multiplier]; its padding is explicit per side.
      if (tf) {
        const x = tf.fill([N, H, W, C], 0.5) as import('@tensorflow/tfjs-core').Tensor4D;
        const w = tf.fill([l.k[0], l.k[1], C, 1], 0.01) as import('@tensorflow/tfjs-core').Tensor4D;
        const dy = tf.fill([N, OH, OW, C], 0.5) as import('@tensorflow/tfjs-core').Tensor4D;
        const [PH, PW] = l.opts.padding;
        const pad: [[number, number], [number, number], [number, number], [number, number]] = [[0, 0], [PH, PH], [PW, PW], [0, 0]];
        const attrs = { strides: l.opts.stride, pad, dilations: l.opts.dilation, dataFormat: 'NHWC', dimRoundingMode: undefined };
        try {
          fwd['tfjs-wasm'] = flop / (await secondsPerCall(() => tf.depthwiseConv2d(x, w, l.opts.stride, pad, 'NHWC', l.opts.dilation).dispose(), options)) / 1e9;
        } catch {
          // tfjs refuses a stride and a dilation above 1 together: the column stays empty.
        }
        for (const [kernel, inputs, out, shape] of [
          ['DepthwiseConv2dNativeBackpropInput', { dy, filter: w }, dx, [N, H, W, C]],
          ['DepthwiseConv2dNativeBackpropFilter', { x, dy }, dw, [l.k[0], l.k[1], C, 1]],
        ] as const) {
          const run = () => (tf.engine().runKernel(kernel, inputs as never, { ...attrs, inputShape: shape, filterShape: shape } as never) as { dispose(): void }).dispose();
          try {
            run();
            out['tfjs-wasm'] = flop / (await secondsPerCall(run, options)) / 1e9;
          } catch {
            // Not registered in tfjs-backend-wasm: the column stays empty and the note says so.
          }
        }
        for (const t of [x, w, dy]) t.dispose();
      }
      const missing = (v: Record<string, number>) => (tf && v['tfjs-wasm'] === undefined ? 'tfjs-wasm has no such kernel here' : undefined);
      rows.push({ case: `${l.name} forward`, unit: 'GFLOP/s', values: fwd, note: missing(fwd) });
      rows.push({ case: `${l.name} dx`, unit: 'GFLOP/s', values: dx, note: missing(dx) });
      rows.push({ case: `${l.name} dw`, unit: 'GFLOP/s', values: dw, note: missing(dw) });
    }
    return rows;
  },
};
