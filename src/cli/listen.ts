// `snn-voice listen --model <file> [recording.wav | -]`: streams a recording (or raw 16-bit PCM on
// stdin) through a Recognizer exactly as a microphone would feed it, in small chunks, and prints each
// detection with its time in the audio. The summary on stderr says what listening cost: CPU seconds
// per second of audio.
import { readFile } from 'node:fs/promises';
import { Command } from 'commander';
import { decodeWav } from '../audio/wav.js';
import { initEngine } from '../engine/engine.js';
import { DETECTOR_DEFAULTS } from '../listen/detector.js';
import { Recognizer, type WordEvent } from '../listen/recognizer.js';
import { loadModel } from '../models/file-node.js';
import { type CliContext, note } from './io.js';
import { MODEL_HELP, existingFile, modelFile, numberIn, positiveInt, UsageError } from './options.js';

interface ListenFlags {
  model: string;
  rate: number;
  threshold: number;
  overlap: number;
  suppression: number;
  smoothing: number;
  chunk: number;
  json?: boolean;
}

/** Audio as it would arrive from a device: `chunk` samples at a time. */
async function* wavChunks(file: string, chunk: number): AsyncGenerator<{ samples: Float32Array; rate: number }> {
  const { samples, sampleRate } = decodeWav(await readFile(file), file);
  for (let at = 0; at < samples.length; at += chunk) yield { samples: samples.subarray(at, at + chunk), rate: sampleRate };
}

const int16 = (lo: number, hi: number): number => (((hi << 8) | lo) << 16) >> 16;

/** Signed 16-bit little-endian mono PCM from a byte stream, whatever the byte boundaries of its chunks. */
export async function* pcm16Chunks(input: AsyncIterable<Uint8Array>, rate: number): AsyncGenerator<{ samples: Float32Array; rate: number }> {
  let carry = -1; // the low byte of a sample split between two chunks
  for await (const bytes of input) {
    if (bytes.length === 0) continue;
    const total = bytes.length + (carry >= 0 ? 1 : 0);
    const samples = new Float32Array(total >> 1);
    let i = 0, b = 0;
    if (carry >= 0 && samples.length > 0) {
      samples[i++] = int16(carry, bytes[0]) / 32768;
      b = 1;
    }
    for (; i < samples.length; i++, b += 2) samples[i] = int16(bytes[b], bytes[b + 1]) / 32768;
    carry = total % 2 === 1 ? bytes[bytes.length - 1] : -1;
    if (samples.length > 0) yield { samples, rate };
  }
}

const formatEvent = (e: WordEvent): string => `${e.time.toFixed(2).padStart(9)}s  ${e.word.padEnd(10)} ${e.score.toFixed(3)}`;

export function listenCommand(ctx: CliContext): Command {
  return new Command('listen')
    .description('spot keywords in a long recording (or raw 16-bit PCM on stdin) as a live microphone would: one line per detection')
    .argument('[recording]', 'a WAV file of any rate (stereo is mixed down), or - for raw signed 16-bit little-endian mono PCM on stdin', '-')
    .requiredOption('--model <file>', MODEL_HELP, modelFile('--model'))
    .option('--rate <hz>', 'sample rate of the PCM on stdin', positiveInt('--rate'), 16000)
    .option('--threshold <p>', 'a word fires when its averaged probability exceeds this', numberIn('--threshold', 0, 1), DETECTOR_DEFAULTS.probabilityThreshold)
    .option('--overlap <f>', 'overlap of successive 1 s windows: the hop is window * (1 - f)', numberIn('--overlap', 0, 0.999), 0.9)
    .option('--suppression <ms>', 'milliseconds after a detection in which nothing else fires', numberIn('--suppression', 0, Infinity), DETECTOR_DEFAULTS.suppressionTimeMillis)
    .option('--smoothing <hops>', 'hops whose probabilities are averaged', positiveInt('--smoothing'), DETECTOR_DEFAULTS.smoothing)
    .option('--chunk <samples>', 'samples per push, as an audio device would deliver them', positiveInt('--chunk'), 1024)
    .option('--json', 'one JSON object per detection on stdout (the summary stays on stderr)')
    .action(async (recording: string, flags: ListenFlags) => {
      const { io } = ctx;
      if (recording !== '-') existingFile('recording', recording);
      else if (process.stdin.isTTY) throw new UsageError('listen: give a WAV file, or pipe raw 16-bit PCM into stdin (e.g. from arecord -f S16_LE -r 16000 -c 1)');
      await initEngine();
      const { model, meta } = await loadModel(flags.model);
      const print = (e: WordEvent) => {
        if (!flags.json) return io.out(formatEvent(e) + '\n');
        const probabilities = Object.fromEntries(meta.classNames.map((c, i) => [c, +e.probabilities[i].toFixed(4)]));
        io.out(JSON.stringify({ word: e.word, time: +e.time.toFixed(4), score: +e.score.toFixed(4), probabilities }) + '\n');
      };
      const recognizer = new Recognizer(model, meta, {
        probabilityThreshold: flags.threshold,
        overlapFactor: flags.overlap,
        suppressionTimeMillis: flags.suppression,
        smoothing: flags.smoothing,
        onWord: print,
      });
      let detections = 0, rate = flags.rate;
      const started = process.cpuUsage();
      try {
        const chunks = recording === '-' ? pcm16Chunks(process.stdin, flags.rate) : wavChunks(recording, flags.chunk);
        for await (const chunk of chunks) {
          rate = chunk.rate;
          for (let at = 0; at < chunk.samples.length; at += flags.chunk)
            detections += recognizer.push(chunk.samples.subarray(at, at + flags.chunk), chunk.rate).length;
        }
      } finally {
        recognizer.dispose();
        model.dispose();
      }
      const cpu = process.cpuUsage(started);
      const seconds = recognizer.time, cpuSeconds = (cpu.user + cpu.system) / 1e6;
      note(io, `${detections} detection${detections === 1 ? '' : 's'} in ${seconds.toFixed(1)} s of audio at ${rate} Hz (hop ${(recognizer.hopSeconds * 1000).toFixed(1)} ms); ` +
        `${cpuSeconds.toFixed(2)} s of CPU, ${seconds > 0 ? ((100 * cpuSeconds) / seconds).toFixed(2) : '-'}% of one core`);
    });
}
