// `snn-voice infer --model <file> <wav...>`: the top-k words with their probabilities, per file. A file
// that cannot be read or decoded gets an error line naming it; the others still run; the exit code is
// non-zero at the end if any failed.
import { Command } from 'commander';
import { extractFeatures } from '../audio/features.js';
import { decodeWav } from '../audio/wav.js';
import { initEngine } from '../engine/engine.js';
import { Tensor } from '../engine/tensor.js';
import { loadModel } from '../models/file-node.js';
import { type CliContext, emit } from './io.js';
import { MODEL_HELP, modelFile, positiveInt, withJson } from './options.js';
import { formatTable } from './table.js';
import { readFileBounded } from '../util/read-file-node.js';

/** Ten minutes of 48 kHz stereo float; infer reads one second of each clip (use listen for long audio). */
const MAX_WAV_BYTES = 256 << 20;

interface InferFlags {
  model: string;
  top: number;
  json?: boolean;
}

export interface Prediction {
  word: string;
  probability: number;
}

/** Softmax of one row of logits, then the k most probable classes, best first. */
export function topK(logits: Float32Array, classNames: readonly string[], k: number): Prediction[] {
  const max = Math.max(...logits);
  const exp = Array.from(logits, (v) => Math.exp(v - max));
  const sum = exp.reduce((a, b) => a + b, 0);
  return exp
    .map((e, i) => ({ word: classNames[i], probability: e / sum }))
    .sort((a, b) => b.probability - a.probability)
    .slice(0, k);
}

export function inferCommand(ctx: CliContext): Command {
  const cmd = new Command('infer')
    .description('classify WAV files with a trained model: the top-k words and their probabilities per file')
    .argument('<wav...>', 'WAV files (any sample rate; stereo is mixed down)')
    .requiredOption('--model <file>', MODEL_HELP, modelFile('--model'))
    .option('-k, --top <k>', 'how many words to show per file', positiveInt('--top'), 3);
  withJson(cmd);
  return cmd.action(async (files: string[], flags: InferFlags) => {
    const { io } = ctx;
    await initEngine();
    const { model, meta } = await loadModel(flags.model);
    const k = Math.min(flags.top, meta.classNames.length);
    const results: Array<{ file: string; predictions?: Prediction[]; error?: string }> = [];
    const x = Tensor.empty([1, ...model.inputShape]);
    try {
      model.eval();
      for (const file of files) {
        try {
          const bytes = await readFileBounded(file, MAX_WAV_BYTES, 'a WAV file');
          const { samples, sampleRate } = decodeWav(bytes, file);
          const features = extractFeatures(samples, sampleRate, meta.features);
          if (features.length !== x.size)
            throw new Error(`${file}: features have ${features.length} values, the model takes [${model.inputShape.join(',')}]`);
          x.f32.set(features);
          const logits = model.forward(x);
          results.push({ file, predictions: topK(logits.toArray(), meta.classNames, k) });
        } catch (e) {
          const message = (e as Error).message;
          results.push({ file, error: message.includes(file) ? message : `${file}: ${message}` });
          ctx.exitCode = 1;
          if (!flags.json) io.err(`error: ${results.at(-1)!.error}\n`);
        }
      }
    } finally {
      x.free();
      model.dispose();
    }
    emit(io, flags.json, results, () =>
      results
        .filter((r) => r.predictions)
        .map((r) =>
          [r.file, formatTable(['rank', 'word', 'probability'], r.predictions!.map((p, i) => [i + 1, p.word, p.probability.toFixed(4)]))].join('\n'),
        )
        .join('\n\n'),
    );
  });
}
