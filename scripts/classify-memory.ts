// Memory over many offline classifications through the documented API: Recognizer.classify on one
// model, the engine's bytes in use, its linear memory and the JS heap (after a full collection) before
// and after the calls. Neither may grow: classify() reuses the recognizer's input tensor and the
// model's activations.
//
//   npx tsx scripts/classify-memory.ts [--model tcy] [--calls 100000] [--spiking] [--steps 5]
//
// Measured (tcy CNN, relaxed build, 100,000 calls in 1,216 s): engine bytes in use 50,560 -> 50,560,
// linear memory 2.000 -> 2.000 MiB, JS heap after a collection 7.277 -> 7.437 MiB.
import '../src/engine/relaxed-simd-node.js';
import v8 from 'node:v8';
import vm from 'node:vm';
import { parseArgs } from 'node:util';
import { initEngine } from '../src/engine/engine.js';
import { Recognizer } from '../src/listen/recognizer.js';
import type { ModelName } from '../src/models/types.js';
import { createModel, featuresFor } from '../src/models/zoo.js';

const { values } = parseArgs({
  options: {
    model: { type: 'string', default: 'tcy' },
    calls: { type: 'string', default: '100000' },
    spiking: { type: 'boolean', default: false },
    steps: { type: 'string', default: '5' },
  },
});
const name = values.model as ModelName;
const calls = Number(values.calls);
const engine = await initEngine();
const features = featuresFor(name);
const model = createModel(name, { classes: 12, spiking: values.spiking, ...(values.spiking && { steps: Number(values.steps) }) });
const r = new Recognizer(model, { classNames: Array.from({ length: 12 }, (_, i) => `c${i}`), features });
const rate = features.sampleRate;
// Eight distinct clips, cycled.
const clips = Array.from({ length: 8 }, (_, k) =>
  Float32Array.from({ length: rate }, (_, i) => 0.3 * Math.sin((2 * Math.PI * (150 + 40 * k) * i) / rate) * Math.sin((Math.PI * i) / rate)),
);
v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;
const snapshot = () => {
  gc();
  return { bytes: engine.bytesInUse, memory: engine.memoryBytes, heap: process.memoryUsage().heapUsed };
};
for (let i = 0; i < 50; i++) r.classify(clips[i % clips.length], rate);
const start = snapshot();
const started = performance.now();
let sink = 0;
for (let i = 0; i < calls; i++) {
  sink += r.classify(clips[i % clips.length], rate)[0];
  if ((i + 1) % 10000 === 0) process.stderr.write(`${i + 1} calls, engine ${engine.bytesInUse} bytes in use\n`);
}
const seconds = (performance.now() - started) / 1000;
const end = snapshot();
const mib = (b: number): string => `${(b / 2 ** 20).toFixed(3)} MiB`;
console.log(`${name} ${values.spiking ? `SNN T=${values.steps}` : 'CNN'} (${engine.flavor}): ${calls} classify() calls in ${seconds.toFixed(1)} s (${((1000 * seconds) / calls).toFixed(2)} ms each; checksum ${sink.toFixed(3)})`);
console.log(`engine bytes in use: ${start.bytes} -> ${end.bytes} (${end.bytes - start.bytes >= 0 ? '+' : ''}${end.bytes - start.bytes})`);
console.log(`linear memory:       ${mib(start.memory)} -> ${mib(end.memory)}`);
console.log(`JS heap (after gc):  ${mib(start.heap)} -> ${mib(end.heap)} (${end.heap - start.heap >= 0 ? '+' : ''}${((end.heap - start.heap) / 1024).toFixed(1)} KiB)`);
r.dispose();
model.dispose();
if (end.bytes !== start.bytes || end.memory !== start.memory) process.exitCode = 1;
