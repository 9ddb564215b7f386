// The study report: from the results of finished runs to report.md text and its SVG plots, one per
// finding. Every statement is computed from the results given; nothing is assumed about which way a
// comparison comes out. Core file: returns strings, the caller writes them.
import type { ModelName } from '../models/types.js';
import { type ConversionSweep, conversionCharts, conversionTable } from './conversion-report.js';
import { mdTable, pct, sci } from './format.js';
import { barChart, lineChart, type LineSeries } from './svg.js';

export interface EpochSummary {
  epoch: number;
  trainLoss: number;
  trainTop1: number;
  valLoss?: number;
  valTop1?: number;
  seconds: number;
}

/** One finished training run, as stored in its folder (result.json) and in results.json. */
export interface RunResult {
  id: string;
  model: ModelName;
  spiking: boolean;
  steps: number;
  learnBeta: boolean;
  /** A CNN's QCFS levels (absent: ReLU). */
  quantize?: number;
  classes: number;
  epochs: EpochSummary[];
  /** The epoch whose weights were kept (lowest monitored loss, or the last one under keep 'last') and scored on the test split. */
  bestEpoch?: number;
  test: { top1: number; top5: number; loss: number; samples: number };
  /** Top-1 on recordings of real people (never trained on), when a real test set was given. */
  realSpeech?: { top1: number; samples: number };
  secondsPerEpoch: number;
  /** The most engine memory held at once during the run's epochs, bytes. */
  memoryBytes: number;
  parameters: number;
  /** Mean fraction of neurons firing per step (SNN only). */
  spikeRate?: number;
  /** Per sample: multiply-accumulates, accumulates, and the dense CNN equivalent. */
  synapticOps: { macs: number; acs: number; denseMacs: number };
  /** Estimated energy of the synaptic operations per inference sample, picojoules. */
  energyPicojoules: number;
}

export interface ReportChart {
  file: string;
  svg: string;
}

export interface ReportInput {
  title: string;
  /** Shown as a settings table at the top (data set, epochs, ...). */
  settings: Record<string, string | number | boolean>;
  results: RunResult[];
  /** Each CNN converted to SNNs and scored at several T (sweep --convert; the demo's at one T), one per model and scored split. */
  conversions?: readonly ConversionSweep[];
}

const fixed = (v: number | undefined, d = 2): string => (v === undefined || !Number.isFinite(v) ? '-' : v.toFixed(d));
const mib = (bytes: number): string => (bytes / (1 << 20)).toFixed(1);
const pp = (d: number): string => `${d >= 0 ? '+' : ''}${(d * 100).toFixed(1)} points`;

export function runLabel(r: Pick<RunResult, 'model' | 'spiking' | 'steps' | 'learnBeta' | 'quantize'>): string {
  return r.spiking ? `${r.model} SNN T=${r.steps}${r.learnBeta ? ' learned beta' : ''}` : `${r.model} CNN${r.quantize ? ` QCFS L=${r.quantize}` : ''}`;
}

/** Runs of no epochs (a converted SNN scored as converted) have no curve and no training cost. */
const trained = (r: RunResult): boolean => r.epochs.length > 0;
const lastVal = (r: RunResult): number | undefined => r.epochs.at(-1)?.valTop1;
const models = (results: RunResult[]): ModelName[] => [...new Set(results.map((r) => r.model))];
const cnnOf = (results: RunResult[], model: ModelName) => results.find((r) => r.model === model && !r.spiking);
const snnsOf = (results: RunResult[], model: ModelName) =>
  results.filter((r) => r.model === model && r.spiking).sort((a, b) => a.steps - b.steps || Number(a.learnBeta) - Number(b.learnBeta));

/** Finding 1: validation top-1 per epoch, SNN against CNN, one plot per model. */
function trainingCurves(results: RunResult[], charts: ReportChart[]): string[] {
  const out: string[] = ['## 1. SNN against CNN during training', ''];
  let any = false;
  for (const model of models(results)) {
    const runs = [cnnOf(results, model), ...snnsOf(results, model)].filter((r): r is RunResult => !!r && trained(r));
    if (!runs.some((r) => r.epochs.some((e) => e.valTop1 !== undefined))) continue;
    any = true;
    const series: LineSeries[] = runs.map((r) => ({
      name: runLabel(r).replace(`${model} `, ''),
      points: r.epochs.filter((e) => e.valTop1 !== undefined).map((e) => [e.epoch, e.valTop1!] as [number, number]),
    }));
    // Chance level as a dashed reference: with few epochs, "better than chance" is the first question.
    const lastEpoch = Math.max(...runs.map((r) => r.epochs.at(-1)?.epoch ?? 1));
    series.push({ name: 'chance', dashed: true, points: [[1, 1 / runs[0].classes], [lastEpoch, 1 / runs[0].classes]] });
    const file = `accuracy-${model}.svg`;
    charts.push({ file, svg: lineChart({ title: `${model}: validation top-1 per epoch`, xLabel: 'epoch', yLabel: 'validation top-1', series, yRange: [0, 1] }) });
    out.push(`### ${model}`, '', `![${model}: validation accuracy per epoch](${file})`, '');
    const cnn = cnnOf(results, model);
    for (const r of runs) {
      const best = Math.max(...r.epochs.map((e) => e.valTop1 ?? -Infinity));
      const bestEpoch = r.epochs.find((e) => e.valTop1 === best)?.epoch;
      const diff = cnn && r !== cnn && lastVal(cnn) !== undefined && lastVal(r) !== undefined ? ` (${pp(lastVal(r)! - lastVal(cnn)!)} against the CNN)` : '';
      out.push(`- ${runLabel(r)}: ${pct(lastVal(r))} after ${r.epochs.length} epochs, best ${pct(best)} at epoch ${bestEpoch}${diff}.`);
    }
    out.push('');
  }
  return any ? out : [];
}

/** Finding 2: final test top-1 against time steps, the CNN as a dashed baseline. */
function accuracyOverSteps(results: RunResult[], charts: ReportChart[]): string[] {
  const out: string[] = ['## 2. Accuracy against the number of time steps', ''];
  let any = false;
  for (const model of models(results)) {
    const snns = snnsOf(results, model);
    if (new Set(snns.map((r) => r.steps)).size < 2) continue;
    any = true;
    const series: LineSeries[] = [false, true]
      .map((learn) => ({
        name: learn ? 'SNN, learned beta' : 'SNN, fixed beta',
        points: snns.filter((r) => r.learnBeta === learn).map((r) => [r.steps, r.test.top1] as [number, number]),
      }))
      .filter((s) => s.points.length > 0);
    const steps = snns.map((r) => r.steps);
    const cnn = cnnOf(results, model);
    if (cnn) series.push({ name: 'CNN', dashed: true, points: [[Math.min(...steps), cnn.test.top1], [Math.max(...steps), cnn.test.top1]] });
    const file = `steps-${model}.svg`;
    charts.push({ file, svg: lineChart({ title: `${model}: test top-1 against time steps`, xLabel: 'time steps T', yLabel: 'test top-1', series, yRange: [0, 1], xTicks: [...new Set(steps)] }) });
    out.push(`### ${model}`, '', `![${model}: accuracy against time steps](${file})`, '');
    const best = snns.reduce((a, b) => (b.test.top1 > a.test.top1 ? b : a));
    const worst = snns.reduce((a, b) => (b.test.top1 < a.test.top1 ? b : a));
    out.push(`- Best SNN: ${runLabel(best)} with ${pct(best.test.top1)}; lowest: ${runLabel(worst)} with ${pct(worst.test.top1)}.`);
    if (cnn) {
      const reach = snns.filter((r) => r.test.top1 >= cnn.test.top1);
      out.push(
        `- CNN: ${pct(cnn.test.top1)}. ${reach.length ? `SNN runs at or above it: ${reach.map(runLabel).join(', ')}.` : `No SNN run reached it; the closest is ${pp(best.test.top1 - cnn.test.top1)}.`}`,
      );
    }
    out.push('');
  }
  return any ? out : [];
}

/** Finding 3: seconds per epoch and memory, SNN against CNN. */
function trainingCost(results: RunResult[], charts: ReportChart[]): string[] {
  const ms = models(results).filter((m) => cnnOf(results, m) && snnsOf(results, m).some(trained));
  if (ms.length === 0) return [];
  const steps = [...new Set(results.filter((r) => r.spiking && trained(r)).map((r) => r.steps))].sort((a, b) => a - b);
  // Fixed-beta runs stand for each T (learned beta costs about the same); fall back to learned.
  const pick = (m: ModelName, t: number) => {
    const s = snnsOf(results, m).filter((r) => r.steps === t && trained(r));
    return s.find((r) => !r.learnBeta) ?? s[0];
  };
  const seriesOf = (f: (r: RunResult) => number) => [
    { name: 'CNN', values: ms.map((m) => f(cnnOf(results, m)!)) },
    ...steps.map((t) => ({ name: `SNN T=${t}`, values: ms.map((m) => (pick(m, t) ? f(pick(m, t)!) : Number.NaN)) })),
  ];
  charts.push({ file: 'cost-time.svg', svg: barChart({ title: 'Training time per epoch', yLabel: 'seconds per epoch', categories: ms, series: seriesOf((r) => r.secondsPerEpoch) }) });
  charts.push({ file: 'cost-memory.svg', svg: barChart({ title: 'Peak engine memory during training', yLabel: 'MiB', categories: ms, series: seriesOf((r) => r.memoryBytes / (1 << 20)) }) });
  const out = ['## 3. Training cost', '', '![seconds per epoch](cost-time.svg)', '', '![memory](cost-memory.svg)', ''];
  for (const m of ms) {
    const cnn = cnnOf(results, m)!;
    const parts = steps
      .map((t) => pick(m, t))
      .filter((r): r is RunResult => !!r)
      .map((r) => `T=${r.steps} ${fixed(r.secondsPerEpoch, 1)} s (${fixed(r.secondsPerEpoch / cnn.secondsPerEpoch, 1)}x), ${mib(r.memoryBytes)} MiB`);
    out.push(`- ${m}: CNN ${fixed(cnn.secondsPerEpoch, 1)} s per epoch, ${mib(cnn.memoryBytes)} MiB; SNN ${parts.join('; ')}.`);
  }
  out.push('');
  return out;
}

/** Finding 4: learned against fixed beta, at the same model and T. */
function learnedBeta(results: RunResult[], charts: ReportChart[]): string[] {
  const pairs: { label: string; fixed: RunResult; learned: RunResult }[] = [];
  for (const m of models(results))
    for (const r of snnsOf(results, m).filter((s) => !s.learnBeta)) {
      const l = snnsOf(results, m).find((s) => s.learnBeta && s.steps === r.steps);
      if (l) pairs.push({ label: `${m} T=${r.steps}`, fixed: r, learned: l });
    }
  if (pairs.length === 0) return [];
  charts.push({
    file: 'beta.svg',
    svg: barChart({
      title: 'Fixed against learned beta: test top-1',
      yLabel: 'test top-1',
      categories: pairs.map((p) => p.label),
      series: [
        { name: 'fixed beta', values: pairs.map((p) => p.fixed.test.top1) },
        { name: 'learned beta', values: pairs.map((p) => p.learned.test.top1) },
      ],
      width: Math.max(640, pairs.length * 70),
    }),
  });
  const diffs = pairs.map((p) => p.learned.test.top1 - p.fixed.test.top1);
  const wins = diffs.filter((d) => d > 0).length;
  const mean = diffs.reduce((a, b) => a + b, 0) / diffs.length;
  return [
    '## 4. Learned against fixed beta',
    '',
    '![fixed against learned beta](beta.svg)',
    '',
    `Learned beta scored higher in ${wins} of ${pairs.length} pairs, lower in ${diffs.filter((d) => d < 0).length}; mean difference ${pp(mean)}.`,
    '',
    ...mdTable(
      ['model, T', 'fixed beta', 'learned beta', 'difference'],
      pairs.map((p, i) => [p.label, pct(p.fixed.test.top1), pct(p.learned.test.top1), pp(diffs[i])]),
    ),
    '',
  ];
}

/** Finding 5: each trained CNN converted without training (train/convert.ts), against T. */
function conversion(sweeps: readonly ConversionSweep[], charts: ReportChart[]): string[] {
  if (sweeps.length === 0) return [];
  const out = [
    '## 5. Conversion of the trained CNN',
    '',
    "Each trained CNN converted to an SNN (weights and biases scaled to the thresholds, no training) and scored at each T; 'vs CNN' is",
    'the difference in top-1 from the CNN it came from, in points (docs/conversion.md).',
    '',
  ];
  for (const sweep of sweeps) {
    // One model may be scored on several splits (the demo's test split and real people): a chart each.
    const other = sweep.split === 'test' ? '' : sweep.split;
    const file = `conversion-${sweep.model}${other && `-${other.replace(/[^A-Za-z0-9]+/g, '-')}`}.svg`;
    const title = other ? `${sweep.model}, ${other}` : sweep.model;
    charts.push({ file, svg: conversionCharts(sweep).accuracy });
    const { header, rows } = conversionTable(sweep);
    const best = sweep.points.reduce<ConversionSweep['points'][number] | undefined>((a, p) => (!a || p.top1 > a.top1 ? p : a), undefined);
    out.push(`### ${title}`, '', `![${title}: converted SNN accuracy against T](${file})`, '', ...mdTable(header, rows), '');
    if (best) out.push(`- Best conversion: ${best.method} at T=${best.steps} with ${pct(best.top1)} on the ${sweep.split} split, against the CNN's ${pct(sweep.cnn.top1)}.`, '');
  }
  return out;
}

/** The epoch the test scores belong to: the kept one, else (results from before it was recorded) the last. */
function keptEpoch(r: RunResult): EpochSummary | undefined {
  return r.epochs.find((e) => e.epoch === r.bestEpoch) ?? r.epochs.at(-1);
}

/** The results table's columns: a header and the cell of a run. */
const RUN_COLUMNS: readonly [string, (r: RunResult) => string][] = [
  ['run', runLabel],
  ['kept epoch', (r) => `${keptEpoch(r)?.epoch ?? '-'}/${r.epochs.length}`],
  ['val top-1', (r) => pct(keptEpoch(r)?.valTop1)],
  ['test top-1', (r) => pct(r.test.top1)],
  ['test top-5', (r) => pct(r.test.top5)],
  ['real top-1', (r) => (r.realSpeech ? pct(r.realSpeech.top1) : '-')],
  ['s/epoch', (r) => (trained(r) ? fixed(r.secondsPerEpoch, 1) : '-')],
  ['MiB', (r) => (trained(r) ? mib(r.memoryBytes) : '-')],
  ['params', (r) => String(r.parameters)],
  ['spike rate', (r) => fixed(r.spikeRate, 3)],
  ['MACs/sample', (r) => sci(r.synapticOps.macs)],
  ['ACs/sample', (r) => sci(r.synapticOps.acs)],
  ['energy pJ/sample', (r) => sci(r.energyPicojoules)],
];

/** The results table, one row per run: the report shows it as markdown, the CLI as aligned text. */
export function runTable(results: readonly RunResult[]): { header: string[]; rows: string[][] } {
  return { header: RUN_COLUMNS.map(([h]) => h), rows: results.map((r) => RUN_COLUMNS.map(([, cell]) => cell(r))) };
}

/** report.md text and the plots it links to (write them next to it). */
export function buildReport(input: ReportInput): { markdown: string; charts: ReportChart[] } {
  const charts: ReportChart[] = [];
  const { results } = input;
  const lines: string[] = [`# ${input.title}`, ''];
  lines.push(...mdTable(['setting', 'value'], Object.entries(input.settings).map(([k, v]) => [k, String(v)])), '');
  if (results.length === 0) {
    lines.push('No finished runs yet.', '');
    return { markdown: lines.join('\n'), charts };
  }
  const table = runTable(results);
  lines.push('## Results', '', ...mdTable(table.header, table.rows), '');
  const samples = [...new Set(results.map((r) => r.test.samples))];
  lines.push(`Test accuracy over ${samples.join(' / ')} samples; ${results[0].classes} classes, so chance is ${pct(1 / results[0].classes)}.`, '');
  lines.push(...trainingCurves(results, charts), ...accuracyOverSteps(results, charts), ...trainingCost(results, charts), ...learnedBeta(results, charts));
  lines.push(...conversion(input.conversions ?? [], charts));
  return { markdown: lines.join('\n'), charts };
}
