// Reproduces the keyword spotters shipped in pretrained/ from the seed: TC-ResNet8 as a CNN and as its
// SNN twin (T = 5), both trained from scratch on the built-in synthesized set with the gsc12 task
// (_silence_, _unknown_ and the ten command words) and the default augmentation, then scored on the
// built-in test split and on the real recordings in samples/real-speech.
//
//   npx tsx scripts/train-pretrained.ts            # about 15 minutes on two idle cores, data included
//
// The runs are deterministic for a given WebAssembly build (relaxed SIMD where Node supports it); the
// plain-SIMD build rounds differently and so trains slightly different weights.
import { copyFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { run } from '../src/cli/main.js';

const COMMON = ['--model', 'tcresnet8', '--task', 'gsc12', '--seed', '0'];
const RUNS = [
  { name: 'kws-cnn', args: ['--epochs', '30'] },
  { name: 'kws-snn', args: ['--spiking', '--steps', '5', '--epochs', '20'] },
];

await mkdir('pretrained', { recursive: true });
for (const { name, args } of RUNS) {
  const out = join('runs', 'pretrained', name);
  if ((await run(['train', ...COMMON, ...args, '--out', out])) !== 0) throw new Error(`training ${name} failed`);
  await copyFile(join(out, 'model.snn'), join('pretrained', `${name}.snn`));
  for (const data of [[], ['--data', join('samples', 'real-speech')]])
    if ((await run(['eval', join('pretrained', `${name}.snn`), ...data])) !== 0) throw new Error(`scoring ${name} failed`);
}
