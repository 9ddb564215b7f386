// The report of a conversion sweep (`snn-voice convert --sweep-steps`): per method and time step T, the
// converted SNN's accuracy beside the CNN's, with its spike rate, synaptic operations and energy
// estimate; a Markdown table and two SVG plots (accuracy and energy against T, log axis). Core file:
// builds strings, touches no files.
import type { ActivityReport } from '../models/types.js';
import { argmaxRows } from './metrics.js';
import { mdTable, pct, sci } from './format.js';
import { lineChart } from './svg.js';

export interface ConversionPoint {
  /** A conversion method, or another label (e.g. a fine-tuned run). */
  method: string;
  steps: number;
  top1: number;
  loss: number;
  /** Conversion error: the share of samples whose predicted class is the CNN's, and the mean absolute
   *  difference of the logits from the CNN's, relative to the CNN's mean absolute logit. */
  agreement?: number;
  logitError?: number;
  /** Mean fraction of neurons firing per step, weighted by layer size. */
  spikeRate?: number;
  /** Per sample. */
  macs: number;
  acs: number;
  energyPicojoules: number;
  /** Wall time of the evaluation. */
  seconds: number;
}

export interface ConversionSweep {
  model: string;
  split: string;
  samples: number;
  cnn: { top1: number; loss: number; macs: number; energyPicojoules: number };
  points: ConversionPoint[];
  /** The command that made it, for the report. */
  command?: string;
}

/** Conversion error of `logits` against the CNN's (both [samples, classes], flattened): see ConversionPoint. */
export function conversionError(cnn: Float32Array, snn: Float32Array, classes: number): { agreement: number; logitError: number } {
  const a = argmaxRows(cnn, classes);
  const b = argmaxRows(snn, classes);
  let diff = 0;
  let size = 0;
  for (let i = 0; i < cnn.length; i++) {
    diff += Math.abs(snn[i] - cnn[i]);
    size += Math.abs(cnn[i]);
  }
  return { agreement: a.reduce((n, c, i) => n + (c === b[i] ? 1 : 0), 0) / Math.max(1, a.length), logitError: size > 0 ? diff / size : 0 };
}

/** Mean fraction of neurons firing per step over all neuron layers, weighted by their size. */
export function meanRate(activity: ActivityReport): number | undefined {
  let neurons = 0;
  let fired = 0;
  for (const l of activity.layers)
    if (l.neurons !== undefined && l.spikeRate !== undefined) {
      neurons += l.neurons;
      fired += l.neurons * l.spikeRate;
    }
  return neurons > 0 ? fired / neurons : undefined;
}

const points = (value: number): string => `${value >= 0 ? '+' : ''}${(value * 100).toFixed(1)}`;

/** One table row per (method, T), the CNN first. */
export function conversionTable(sweep: ConversionSweep): { header: string[]; rows: string[][] } {
  const header = ['method', 'T', 'top-1', 'vs CNN (points)', 'loss', 'agrees with CNN', 'logit error', 'spike rate', 'MACs/sample', 'ACs/sample', 'energy pJ/sample', 'energy vs CNN'];
  const { cnn } = sweep;
  const rows = [
    ['CNN', '-', pct(cnn.top1), '0.0', cnn.loss.toFixed(3), '-', '-', '-', sci(cnn.macs), '0', sci(cnn.energyPicojoules), '1.00'],
    ...sweep.points.map((p) => [
      p.method, String(p.steps), pct(p.top1), points(p.top1 - cnn.top1), p.loss.toFixed(3), pct(p.agreement), p.logitError === undefined ? '-' : p.logitError.toFixed(3),
      p.spikeRate === undefined ? '-' : p.spikeRate.toFixed(4),
      sci(p.macs), sci(p.acs), sci(p.energyPicojoules), p.energyPicojoules > 0 ? (p.energyPicojoules / cnn.energyPicojoules).toFixed(2) : '-',
    ]),
  ];
  return { header, rows };
}

/** The plots: accuracy and energy per sample against T, one line per method, the CNN's dashed. */
export function conversionCharts(sweep: ConversionSweep): { accuracy: string; energy: string } {
  const methods = [...new Set(sweep.points.map((p) => p.method))];
  const steps = [...new Set(sweep.points.map((p) => p.steps))].sort((a, b) => a - b);
  const range: [number, number] = [steps[0] ?? 1, steps[steps.length - 1] ?? 1];
  const series = (value: (p: ConversionPoint) => number, cnn: number) => [
    ...methods.map((m) => ({ name: m, points: sweep.points.filter((p) => p.method === m).sort((a, b) => a.steps - b.steps).map((p) => [p.steps, value(p)] as [number, number]) })),
    { name: 'CNN', points: range.map((t) => [t, cnn] as [number, number]), dashed: true },
  ];
  const common = { xLabel: 'time steps T', xLog: true, xTicks: steps };
  return {
    accuracy: lineChart({ ...common, title: `${sweep.model}: converted SNN accuracy against T`, yLabel: `top-1 (${sweep.split})`, yRange: [0, 1], series: series((p) => p.top1, sweep.cnn.top1) }),
    energy: lineChart({ ...common, title: `${sweep.model}: synaptic energy per sample against T`, yLabel: 'pJ / sample', series: series((p) => p.energyPicojoules, sweep.cnn.energyPicojoules) }),
  };
}

/** The Markdown report; the plots are linked as accuracy.svg and energy.svg beside it. */
export function conversionMarkdown(sweep: ConversionSweep): string {
  const { header, rows } = conversionTable(sweep);
  return [
    `# ${sweep.model}: CNN -> SNN conversion`,
    '',
    `Top-1 on the ${sweep.split} split (${sweep.samples} samples) at each number of time steps T. Energy: synaptic operations per sample`,
    'at 4.6 pJ a multiply-accumulate and 0.9 pJ an accumulate (45 nm, Horowitz 2014); the CNN does only multiply-accumulates.',
    'Conversion error: the share of samples the SNN classifies as the CNN does, and the mean absolute difference of its',
    "logits from the CNN's, relative to the CNN's mean absolute logit.",
    ...(sweep.command ? ['', `Made by \`${sweep.command}\`.`] : []),
    '',
    ...mdTable(header, rows),
    '',
    '![accuracy against T](accuracy.svg)',
    '',
    '![energy against T](energy.svg)',
    '',
  ].join('\n');
}
