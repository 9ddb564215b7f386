import { describe, expect, it } from 'vitest';
import { buildReport, runLabel, runTable, type RunResult } from '../src/train/report.js';
import { resultTable } from '../src/cli/summary.js';
import type { ModelName } from '../src/models/types.js';

function result(model: ModelName, spiking: boolean, steps: number, learnBeta: boolean, top1: number, secs: number): RunResult {
  return {
    id: `${model}-${spiking ? `snn-t${steps}${learnBeta ? '-lb' : ''}` : 'cnn'}`,
    model,
    spiking,
    steps: spiking ? steps : 1,
    learnBeta,
    classes: 10,
    epochs: [1, 2, 3].map((epoch) => ({ epoch, trainLoss: 2 / epoch, trainTop1: top1 * (epoch / 3), valTop1: top1 * (epoch / 3) - 0.01, seconds: secs })),
    test: { top1, top5: Math.min(1, top1 + 0.2), loss: 1, samples: 200 },
    secondsPerEpoch: secs,
    memoryBytes: (spiking ? steps * 8 : 4) << 20,
    parameters: 1234,
    spikeRate: spiking ? 0.12 : undefined,
    synapticOps: { macs: 1e6, acs: spiking ? 3e6 : 0, denseMacs: 5e6 },
    energyPicojoules: 4.6e6 + (spiking ? 2.7e6 : 0),
  };
}

describe('buildReport', () => {
  it('states the numbers of the results and draws one plot per finding', () => {
    const results = [
      result('hjh', false, 1, false, 0.62, 2),
      result('hjh', true, 1, false, 0.31, 3),
      result('hjh', true, 5, false, 0.55, 9),
      result('hjh', true, 5, true, 0.58, 9.5),
      result('hjh', true, 15, false, 0.66, 25),
    ];
    const { markdown, charts } = buildReport({ title: 'Sweep', settings: { epochs: 3 }, results });
    expect(charts.map((c) => c.file).sort()).toEqual(['accuracy-hjh.svg', 'beta.svg', 'cost-memory.svg', 'cost-time.svg', 'steps-hjh.svg']);
    for (const c of charts) expect(markdown).toContain(`(${c.file})`);
    expect(markdown).toContain('62.0%');
    expect(markdown).toContain('66.0%');
    expect(markdown).toContain('chance is 10.0%');
    // Which way the comparisons go is read from the data.
    expect(markdown).toContain('SNN runs at or above it: hjh SNN T=15.');
    expect(markdown).toContain('Learned beta scored higher in 1 of 1 pairs');
    expect(markdown).toContain('+3.0 points');
    expect(markdown).toContain('T=5 9.0 s (4.5x)');
  });

  it('says so when no SNN reaches the CNN, and when beta learning loses', () => {
    const results = [result('tcy', false, 1, false, 0.8, 1), result('tcy', true, 1, false, 0.4, 2), result('tcy', true, 5, false, 0.5, 4), result('tcy', true, 5, true, 0.45, 4)];
    const { markdown } = buildReport({ title: 'Sweep', settings: {}, results });
    expect(markdown).toContain('No SNN run reached it; the closest is -30.0 points.');
    expect(markdown).toContain('Learned beta scored higher in 0 of 1 pairs, lower in 1');
  });

  it('leaves out findings the results cannot support', () => {
    const { markdown, charts } = buildReport({ title: 'Demo', settings: {}, results: [result('hjh', false, 1, false, 0.5, 1), result('hjh', true, 5, false, 0.4, 3)] });
    expect(charts.map((c) => c.file).sort()).toEqual(['accuracy-hjh.svg', 'cost-memory.svg', 'cost-time.svg']);
    expect(markdown).not.toContain('time steps');
    expect(markdown).not.toContain('Learned against fixed beta');
    expect(buildReport({ title: 'Empty', settings: {}, results: [] }).markdown).toContain('No finished runs yet.');
  });

  it("shows the validation score of the kept epoch, whose weights the test scored", () => {
    const kept = { ...result('hjh', true, 5, false, 0.6, 3), bestEpoch: 2 };
    const { markdown } = buildReport({ title: 'Kept', settings: {}, results: [kept] });
    expect(markdown).toMatch(/\| hjh SNN T=5 \| 2\/3 \| 39\.0% \| 60\.0% \|/);
    const old = buildReport({ title: 'Old', settings: {}, results: [result('hjh', true, 5, false, 0.6, 3)] }).markdown;
    expect(old).toMatch(/\| hjh SNN T=5 \| 3\/3 \| 59\.0% \|/);
  });

  it('shows the CLI the same results table, column for column', () => {
    const results = [result('hjh', false, 1, false, 0.62, 2), result('hjh', true, 5, true, 0.58, 9.5)];
    const { header, rows } = runTable(results);
    const { markdown } = buildReport({ title: 'Shared', settings: {}, results });
    expect(markdown).toContain(`| ${header.join(' | ')} |`);
    for (const row of rows) expect(markdown).toContain(`| ${row.join(' | ')} |`);
    const text = resultTable(results).split('\n');
    expect(text[0].split(/ {2,}/)).toEqual(header);
    expect(text.slice(2).map((line) => line.trim().split(/ {2,}/))).toEqual(rows);
  });

  it('labels runs', () => {
    expect(runLabel({ model: 'm5', spiking: true, steps: 15, learnBeta: true })).toBe('m5 SNN T=15 learned beta');
    expect(runLabel({ model: 'm5', spiking: false, steps: 1, learnBeta: false })).toBe('m5 CNN');
  });
});
