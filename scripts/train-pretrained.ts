// Reproduces the keyword spotters shipped in pretrained/ from the seed: TC-ResNet8 as a CNN trained
// from scratch, and its SNN twin at T = 8 made from that CNN as `npm start` makes its SNN (the CNN
// fine-tuned 20 epochs with QCFS activations of 8 levels, then converted with signed neurons, which keep
// the QCFS CNN's accuracy; docs/accuracy.md). Both train with the gsc12 task (_silence_, _unknown_ and the ten
// command words; `_unknown_` at half the known words' clips, not TensorFlow's tenth: a listener hears
// other words far more often than a test split does, and the larger share cut the false detections on
// other real words by 40%, docs/listen.md), on 20 MFCC (more words right on real people than 60 log-mel
// bands, and fewer false detections, docs/listen.md) and full augmentation on two folders read as one data set,
// each keeping its splits:
//   - the built-in synthesized set as it was when they were trained, before GnuSpeech voices joined it
//     (`snn-voice synth --gnuspeech-share 0 --pico-voices 0 --accented-voices 0`, made here once in data/builtin-espeak-flite), all 35 words;
//   - real speech: a Speech Commands copy. The models shipped were trained on ../shared/data/gsc-v1-subset,
//     3,953 training clips of down, go, left, right, up (commands) and eight, five, one, zero (heard as
//     `_unknown_`) from the Speech Commands data set (Warden 2018, CC BY 4.0); any Speech Commands v2
//     folder works, with other weights.
// Each model is then scored on the built-in test split and on samples/real-speech (never trained on;
// its speakers are not in gsc-v1-subset).
//
//   npx tsx scripts/train-pretrained.ts [--speech <dir>] [kws-cnn] [kws-snn]
//   SNN_VOICE_SPEECH=<dir> npx tsx scripts/train-pretrained.ts
//
// Names pick which models to train (default both, the CNN first: the SNN starts from
// pretrained/kws-cnn.snn). On two cores shared with other jobs: features 5 minutes, the CNN about 15, the
// SNN's QCFS fine-tuning about 2. The runs are
// deterministic for a given WebAssembly build (relaxed SIMD where Node supports it); the plain-SIMD build
// rounds differently and so trains slightly different weights.
import { existsSync } from 'node:fs';
import { copyFile, mkdir } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { run } from '../src/cli/main.js';

// kws-snn's run is the QCFS fine-tuning of the shipped CNN; the file shipped is that run converted.
const QCFS_LEVELS = 8;
const RUNS = {
  'kws-cnn': [] as string[],
  'kws-snn': ['--init-from', join('pretrained', 'kws-cnn.snn'), '--quantize', String(QCFS_LEVELS), '--epochs', '20', '--lr', '0.003'],
};
type Name = keyof typeof RUNS;

const { values, positionals } = parseArgs({ options: { speech: { type: 'string' } }, allowPositionals: true });
const speech = values.speech ?? process.env.SNN_VOICE_SPEECH ?? join('..', 'shared', 'data', 'gsc-v1-subset');
function fail(message: string): never {
  console.error(`train-pretrained: ${message}`);
  process.exit(2);
}
if (!existsSync(join(speech, 'validation_list.txt')))
  fail(
    `no Speech Commands folder at "${speech}" (no validation_list.txt). The shipped models were trained on the built-in ` +
      'set plus ../shared/data/gsc-v1-subset (a subset of Speech Commands v0.01); give a Speech Commands copy with ' +
      '--speech <dir> or SNN_VOICE_SPEECH=<dir>.',
  );
// real-dev scores models on people no training set holds; training on it would void every real-people number.
if (basename(resolve(speech)) === 'real-dev') fail(`"${speech}" is the scoring set real-dev: never train on it`);
for (const p of positionals) if (!(p in RUNS)) fail(`no model "${p}"; there are ${Object.keys(RUNS).join(', ')}`);
const names = (positionals.length ? positionals : Object.keys(RUNS)) as Name[];

// The epochs, learning rate and warm-up are TC-ResNet8's recipe (cli/run.ts recipeFor).
const builtin = join('data', 'builtin-espeak-flite');
const COMMON = ['--model', 'tcresnet8', '--task', 'gsc12', '--unknown-share', '0.5', '--seed', '0', '--augment', 'full', '--features', 'mfcc', '--data', builtin, '--data', speech];

if ((await run(['synth', '--out', builtin, '--gnuspeech-share', '0', '--pico-voices', '0', '--accented-voices', '0'])) !== 0) throw new Error(`synthesizing ${builtin} failed`);
await mkdir('pretrained', { recursive: true });
for (const name of names) {
  const out = join('runs', 'pretrained', name);
  if ((await run(['train', ...COMMON, ...RUNS[name], '--overwrite', '--out', out])) !== 0) throw new Error(`training ${name} failed`);
  if (name === 'kws-cnn') await copyFile(join(out, 'model.snn'), join('pretrained', `${name}.snn`));
  else if ((await run(['convert', '--model', join(out, 'model.snn'), '--method', 'qcfs', '--steps', String(QCFS_LEVELS), '--signed', '--out', join('pretrained', `${name}.snn`)])) !== 0)
    throw new Error(`converting ${name} failed`);
  for (const data of [['--data', builtin], ['--data', join('samples', 'real-speech')]])
    if ((await run(['eval', join('pretrained', `${name}.snn`), ...data])) !== 0) throw new Error(`scoring ${name} failed`);
}
