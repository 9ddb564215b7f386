// How well listening works on a long recording: real spoken clips (a Speech Commands folder) placed one
// after another with gaps, over a quiet noise bed, with bursts of louder noise between them; the
// recording is streamed through a Recognizer as a microphone would feed it, and its detections are
// matched against where the keywords were placed.
//
//   npx tsx scripts/detection-eval.ts --model <model.snn> --data <speech-commands-folder> [--out rec.wav]
//
// Reported: recall over the keyword clips the model classifies correctly offline (classify() on the clip
// alone) and over all of them; false detections per 10 minutes of non-keyword audio (everything outside
// the keywords' detection zones: other words, noise, the bed); wrong-word detections on keywords. The
// stream's per-hop probabilities are recorded once and replayed through Detectors, so --sweep compares
// thresholds and smoothing (--sweep-thresholds, --sweep-smoothing) at the cost of one pass. Deterministic for a given --seed.
import '../src/engine/relaxed-simd-node.js';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { synthNoise, NOISE_COLORS } from '../src/audio/noise.js';
import { resample } from '../src/audio/resample.js';
import { decodeWav, encodeWav } from '../src/audio/wav.js';
import { initEngine } from '../src/engine/engine.js';
import { Detector, isKeyword, type DetectorOptions, type WordEvent } from '../src/listen/detector.js';
import { Recognizer } from '../src/listen/recognizer.js';
import { loadModel } from '../src/models/file-node.js';
import { Rng } from '../src/util/rng.js';

const RATE = 16000;
/** A detection counts for a keyword placed at [start, end] when its window (ending at the event's time)
 *  overlaps the clip, allowing this much more for the delay of averaging over hops. */
const ZONE_SLACK = 0.5;

const { values: args } = parseArgs({
  options: {
    model: { type: 'string' },
    data: { type: 'string' },
    out: { type: 'string' },
    seed: { type: 'string', default: '1' },
    'gap-min': { type: 'string', default: '1.5' },
    'gap-max': { type: 'string', default: '3.5' },
    'bed-db': { type: 'string', default: '-55' },
    threshold: { type: 'string' },
    overlap: { type: 'string', default: '0.9' },
    suppression: { type: 'string' },
    smoothing: { type: 'string' },
    sweep: { type: 'boolean', default: false },
    'sweep-smoothing': { type: 'string', default: '1,3,5' },
    'sweep-thresholds': { type: 'string', default: '0.5,0.6,0.7,0.8,0.9,0.95,0.98' },
    json: { type: 'boolean', default: false },
  },
});
if (!args.model || !args.data) {
  console.error('usage: npx tsx scripts/detection-eval.ts --model <model.snn> --data <speech-commands-folder> [--out rec.wav] [--seed n] [--sweep [--sweep-smoothing 1,3,5] [--sweep-thresholds 0.5,0.8]] [--json]');
  process.exit(2);
}
const num = (name: keyof typeof args): number | undefined => (args[name] === undefined ? undefined : Number(args[name]));
/** A comma-separated list of numbers, as --sweep-smoothing and --sweep-thresholds take. */
const list = (name: 'sweep-smoothing' | 'sweep-thresholds'): number[] =>
  String(args[name]).split(',').map((v) => {
    if (v.trim() === '' || !Number.isFinite(Number(v))) throw new Error(`--${name}: "${v}" is not a number`);
    return Number(v);
  });

interface Placement {
  word: string | null; // null for a noise burst
  start: number;
  end: number;
  keyword: boolean;
  /** Offline, on the clip alone: is the word the most probable class, and its probability. */
  correctOffline?: boolean;
  offlineProbability?: number;
}

/** Every clip of every word folder (names starting with _ are not words), at 16 kHz. */
function readClips(root: string): Array<{ word: string; samples: Float32Array }> {
  const clips: Array<{ word: string; samples: Float32Array }> = [];
  for (const word of readdirSync(root).sort()) {
    const dir = join(root, word);
    if (word.startsWith('_') || !statSync(dir).isDirectory()) continue;
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.wav')).sort()) {
      const { samples, sampleRate } = decodeWav(readFileSync(join(dir, file)), join(word, file));
      clips.push({ word, samples: sampleRate === RATE ? samples : resample(samples, sampleRate, RATE) });
    }
  }
  return clips;
}

const dbToAmplitude = (db: number): number => 10 ** (db / 20);

/** The recording and where each clip and burst went. */
function assemble(clips: Array<{ word: string; samples: Float32Array }>, keywords: Set<string>, rng: Rng) {
  const gapMin = num('gap-min')!, gapMax = num('gap-max')!;
  type Segment = { word: string | null; samples: Float32Array };
  const segments: Segment[] = clips.map((c) => ({ word: c.word, samples: c.samples }));
  // Louder non-speech between the words: one burst per eight clips, 1.5 to 4 s, at -35 to -20 dBFS RMS.
  for (let i = 0; i < Math.round(clips.length / 8); i++) {
    const color = NOISE_COLORS[Math.floor(rng.next() * NOISE_COLORS.length)];
    const burst = synthNoise(color, Math.round((1.5 + 2.5 * rng.next()) * RATE), RATE, rng);
    const gain = dbToAmplitude(-35 + 15 * rng.next());
    for (let k = 0; k < burst.length; k++) burst[k] *= gain;
    segments.push({ word: null, samples: burst });
  }
  for (let i = segments.length - 1; i > 0; i--) {
    const j = Math.floor(rng.next() * (i + 1));
    [segments[i], segments[j]] = [segments[j], segments[i]];
  }
  const placements: Placement[] = [];
  let at = Math.round(1.0 * RATE);
  for (const s of segments) {
    at += Math.round((gapMin + (gapMax - gapMin) * rng.next()) * RATE);
    placements.push({ word: s.word, start: at / RATE, end: (at + s.samples.length) / RATE, keyword: s.word !== null && keywords.has(s.word) });
    at += s.samples.length;
  }
  const total = at + Math.round(2.0 * RATE);
  // The bed: pink noise at bed-db RMS under everything, as a real room and microphone never give zeros.
  const audio = synthNoise('pink', total, RATE, rng);
  const bed = dbToAmplitude(num('bed-db')!);
  for (let i = 0; i < total; i++) audio[i] *= bed;
  segments.forEach((s, i) => {
    const from = Math.round(placements[i].start * RATE);
    for (let k = 0; k < s.samples.length; k++) audio[from + k] += s.samples[k];
  });
  for (let i = 0; i < total; i++) audio[i] = Math.max(-1, Math.min(1, audio[i]));
  return { audio, placements };
}

interface Score {
  threshold: number;
  smoothing: number;
  suppressionMs: number;
  detected: number;
  recallCorrect: number;
  /** Over the clips whose offline probability passes the threshold: what the stream loses by itself. */
  recallOffline: number;
  recallAll: number;
  falseAlarms: number;
  falsePer10Min: number;
  /** Where the false detections fell: on another word's clip, on a noise burst, on the bed alone, or a
   *  keyword detected twice. */
  falseOn: { words: number; noise: number; bed: number; repeats: number };
  /** The other words that set off most false detections, most first. */
  falseTriggers: Array<[string, number]>;
  wrongWord: number;
  /** Median seconds from the end of a detected keyword's clip to its event (negative: before the clip
   *  ended, as the window holds the whole word before the trailing silence). */
  delayMedian: number;
}

function score(events: WordEvent[], placements: Placement[], nonKeywordSeconds: number, config: Required<DetectorOptions>): Score {
  const zones = placements.filter((p) => p.keyword).map((p) => ({ p, from: p.start, to: p.end + 1 + ZONE_SLACK, hit: false }));
  let falseAlarms = 0, wrongWord = 0;
  const delays: number[] = [];
  const falseOn = { words: 0, noise: 0, bed: 0, repeats: 0 };
  const triggers = new Map<string, number>();
  const blame = (e: WordEvent) => {
    falseAlarms++;
    const p = placements.find((q) => !q.keyword && e.time > q.start && e.time <= q.end + 1);
    if (!p) falseOn.bed++;
    else if (p.word === null) falseOn.noise++;
    else {
      falseOn.words++;
      triggers.set(p.word, (triggers.get(p.word) ?? 0) + 1);
    }
  };
  for (const e of events) {
    const zone = zones.find((z) => e.time > z.from && e.time <= z.to);
    if (!zone) blame(e);
    else if (zone.p.word !== e.word) wrongWord++;
    else if (zone.hit) {
      falseAlarms++; // a second detection of one spoken word
      falseOn.repeats++;
    }
    else {
      zone.hit = true;
      delays.push(e.time - zone.p.end);
    }
  }
  delays.sort((a, b) => a - b);
  const correct = zones.filter((z) => z.p.correctOffline);
  const passing = zones.filter((z) => z.p.correctOffline && z.p.offlineProbability! > config.probabilityThreshold);
  return {
    threshold: config.probabilityThreshold,
    smoothing: config.smoothing,
    suppressionMs: config.suppressionTimeMillis,
    detected: zones.filter((z) => z.hit).length,
    recallCorrect: correct.filter((z) => z.hit).length / Math.max(1, correct.length),
    recallOffline: passing.filter((z) => z.hit).length / Math.max(1, passing.length),
    recallAll: zones.filter((z) => z.hit).length / Math.max(1, zones.length),
    falseAlarms,
    falsePer10Min: falseAlarms / (nonKeywordSeconds / 600),
    falseOn,
    falseTriggers: [...triggers].sort((a, b) => b[1] - a[1]).slice(0, 8),
    wrongWord,
    delayMedian: delays.length ? delays[Math.floor(delays.length / 2)] : NaN,
  };
}

async function main(): Promise<void> {
  await initEngine();
  const { model, meta } = await loadModel(args.model!);
  const keywords = new Set(meta.classNames.filter(isKeyword));
  const clips = readClips(args.data!);
  const present = [...keywords].filter((k) => clips.some((c) => c.word === k));
  if (present.length === 0) throw new Error(`${args.data}: none of the model's words (${[...keywords].join(', ')}) has a folder`);
  const { audio, placements } = assemble(clips, keywords, new Rng(Number(args.seed)));
  if (args.out) writeFileSync(args.out, encodeWav(audio, RATE, 16));

  const hopProbabilities: Float64Array[] = [];
  const hopTimes: number[] = [];
  // Probabilities only (smoothing 1, a threshold nothing passes): the Detectors below decide.
  const recognizer = new Recognizer(model, meta, {
    overlapFactor: num('overlap'),
    smoothing: 1,
    probabilityThreshold: 1,
    onHop: (time, p) => {
      hopTimes.push(time);
      hopProbabilities.push(Float64Array.from(p));
    },
  });
  // Offline: each keyword clip alone (with the bed under it), as `infer` would see it.
  for (const p of placements) {
    if (!p.keyword) continue;
    const from = Math.round(p.start * RATE), to = Math.round(p.end * RATE);
    const probabilities = recognizer.classify(audio.slice(from, to), RATE);
    const best = probabilities.indexOf(Math.max(...probabilities));
    p.correctOffline = meta.classNames[best] === p.word;
    p.offlineProbability = probabilities[meta.classNames.indexOf(p.word!)];
  }
  const cpu = process.cpuUsage();
  const chunk = 1024;
  for (let at = 0; at < audio.length; at += chunk) recognizer.push(audio.subarray(at, at + chunk), RATE);
  const used = process.cpuUsage(cpu);
  const seconds = audio.length / RATE;
  const keywordZoneSeconds = placements.filter((p) => p.keyword).reduce((s, p) => s + (p.end - p.start) + 1 + ZONE_SLACK, 0);
  const nonKeywordSeconds = seconds - keywordZoneSeconds;

  const replay = (options: DetectorOptions): Score => {
    const detector = new Detector(meta.classNames, options);
    const events: WordEvent[] = [];
    hopProbabilities.forEach((p, i) => {
      const e = detector.update(p, hopTimes[i]);
      if (e) events.push(e);
    });
    return score(events, placements, nonKeywordSeconds, {
      probabilityThreshold: detector.probabilityThreshold,
      smoothing: detector.smoothing,
      suppressionTimeMillis: detector.suppressionTimeMillis,
    });
  };
  const headline = replay({ probabilityThreshold: num('threshold'), smoothing: num('smoothing'), suppressionTimeMillis: num('suppression') });
  const sweep = args.sweep
    ? list('sweep-smoothing').flatMap((smoothing) => list('sweep-thresholds').map((t) => replay({ probabilityThreshold: t, smoothing, suppressionTimeMillis: num('suppression') })))
    : [];
  const keywordClips = placements.filter((p) => p.keyword);
  const summary = {
    model: args.model,
    data: args.data,
    seed: Number(args.seed),
    recordingSeconds: seconds,
    nonKeywordSeconds,
    keywords: present,
    keywordClips: keywordClips.length,
    otherClips: placements.filter((p) => p.word !== null && !p.keyword).length,
    noiseBursts: placements.filter((p) => p.word === null).length,
    correctOffline: keywordClips.filter((p) => p.correctOffline).length,
    hopMs: recognizer.hopSeconds * 1000,
    cpuPercentOfOneCore: (100 * (used.user + used.system)) / 1e6 / seconds,
    result: headline,
    sweep,
  };
  recognizer.dispose();
  model.dispose();
  if (args.json) return void console.log(JSON.stringify(summary, null, 2));
  const pct = (v: number) => `${(100 * v).toFixed(1)}%`;
  const row = (s: Score) =>
    `${s.threshold.toFixed(2).padStart(9)} ${String(s.smoothing).padStart(9)} ${pct(s.recallCorrect).padStart(15)} ${pct(s.recallOffline).padStart(16)} ${pct(s.recallAll).padStart(11)} ${s.falsePer10Min.toFixed(2).padStart(16)} ${String(s.wrongWord).padStart(10)} ${s.delayMedian.toFixed(2).padStart(9)}`;
  const header = `${'threshold'.padStart(9)} ${'smoothing'.padStart(9)} ${'recall(correct)'.padStart(15)} ${'recall(passing)'.padStart(16)} ${'recall(all)'.padStart(11)} ${'false per 10 min'.padStart(16)} ${'wrong word'.padStart(10)} ${'delay (s)'.padStart(9)}`;
  console.log(
    [
      `recording: ${(seconds / 60).toFixed(1)} min (${summary.keywordClips} keyword clips of ${present.join(', ')}; ${summary.otherClips} other words; ${summary.noiseBursts} noise bursts), ${(nonKeywordSeconds / 60).toFixed(1)} min of it non-keyword audio`,
      `offline: ${summary.correctOffline} of ${summary.keywordClips} keyword clips classified correctly (${pct(summary.correctOffline / summary.keywordClips)})`,
      `streaming: hop ${summary.hopMs.toFixed(1)} ms, ${summary.cpuPercentOfOneCore.toFixed(2)}% of one core`,
      `detection (suppression ${headline.suppressionMs} ms; recall over the keyword clips classified correctly offline, over those whose offline probability also passes the threshold, and over all):`,
      header,
      row(headline),
      `false detections: ${headline.falseOn.words} on other words (most: ${headline.falseTriggers.map(([w, n]) => `${w} ${n}`).join(', ') || '-'}), ` +
        `${headline.falseOn.noise} on noise bursts, ${headline.falseOn.bed} on the quiet bed, ${headline.falseOn.repeats} repeats of a keyword`,
      ...(sweep.length ? ['', 'sweep:', header, ...sweep.map(row)] : []),
    ].join('\n'),
  );
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
