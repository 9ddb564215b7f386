// `snn-voice sweep` across machines: --shard k/n splits the grid, --merge joins the parts into the report
// the whole sweep writes, and --convert adds each CNN's conversion to SNNs. End to end on a tiny tree.
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseShard, shardRuns, sweepGrid } from '../src/cli/sweep-grid.js';
import type { ConversionSweep } from '../src/train/conversion-report.js';
import type { RunResult } from '../src/train/report.js';
import { cli, writeTree } from './cli-helpers.js';

describe('sweep --shard', () => {
  const grid = sweepGrid({ models: ['m5', 'hjh', 'tcy'], steps: [1, 5, 15, 30], learnBeta: [false, true], cnn: true, neuron: 'current', epochs: 1, batchSize: 4, seed: 0 });

  it('splits the grid into n disjoint parts whose union is the grid, each a round robin over it', () => {
    expect(grid).toHaveLength(27);
    for (const n of [1, 2, 3, 4, 7, 27, 40]) {
      const parts = Array.from({ length: n }, (_, k) => shardRuns(grid, { k: k + 1, n }).map((r) => r.id));
      const all = parts.flat();
      expect(new Set(all).size, `n=${n}: a run in two parts`).toBe(all.length);
      expect([...all].sort(), `n=${n}`).toEqual(grid.map((r) => r.id).sort());
      const sizes = parts.map((p) => p.length);
      expect(Math.max(...sizes) - Math.min(...sizes), `n=${n}: uneven parts`).toBeLessThanOrEqual(1);
    }
    // Round robin: the long T=30 runs of the three models do not all land on one machine of four.
    const longest = (k: number) => shardRuns(grid, { k, n: 4 }).filter((r) => r.spec.steps === 30).length;
    expect(Math.max(...[1, 2, 3, 4].map(longest))).toBeLessThan(6);
  });

  it('parses k/n and names --shard when it is wrong', () => {
    expect(parseShard('2/4')).toEqual({ k: 2, n: 4 });
    expect(parseShard(' 1 / 1 ')).toEqual({ k: 1, n: 1 });
    expect(() => parseShard('0/3')).toThrow(/^--shard 0\/3: k must be between 1 and 3 \(parts are counted from 1/);
    expect(() => parseShard('4/3')).toThrow(/^--shard 4\/3: k must be between 1 and 3/);
    expect(() => parseShard('1/0')).toThrow(/^--shard 1\/0: n must be at least 1/);
    for (const bad of ['2', 'a/b', '1/2/3', '-1/2', '1.5/2']) expect(() => parseShard(bad)).toThrow(/^--shard must be k\/n/);
  });
});

/** A result without what depends on the machine's speed (seconds) or its memory. */
function machineFree(r: RunResult): unknown {
  const { secondsPerEpoch: _s, memoryBytes: _m, epochs, ...rest } = r;
  return { ...rest, epochs: epochs.map(({ seconds: _e, ...e }) => e) };
}
const pointsOf = (c: ConversionSweep) => ({ ...c, command: undefined, points: c.points.map(({ seconds: _s, ...p }) => p) });
const readJson = (path: string) => JSON.parse(readFileSync(path, 'utf8'));

describe('sweep --shard, --merge and --convert end to end', () => {
  let dir: string;
  let data: string;
  // tcy (a linear classifier: its conversion is exact) and hjh (two convolutions with ReLUs: its
  // conversion spikes) on 3 words x 4 training clips, one epoch: six runs in seconds.
  const args = () => ['sweep', '--models', 'tcy,hjh', '--steps', '2,1', '--learn-beta', 'off', '--epochs', '1', '--batch-size', '4', '--data', data, '--convert', 'ecc', '--json'];

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'snn-voice-sweep-'));
    data = join(dir, 'speech');
    writeTree(data);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  let whole: { results: RunResult[]; conversions: ConversionSweep[] };

  it('the whole sweep converts its CNN at every T of the grid and reports it', async () => {
    const out = join(dir, 'whole');
    const r = await cli(...args(), '--out', out);
    expect(r.code, r.err).toBe(0);
    whole = JSON.parse(r.out);
    expect(whole.results.map((x) => x.id)).toEqual(['tcy-cnn', 'tcy-snn-t1', 'tcy-snn-t2', 'hjh-cnn', 'hjh-snn-t1', 'hjh-snn-t2']);
    expect(whole.conversions.map((c) => [c.model, c.points.map((p) => `${p.method} T=${p.steps}`)])).toEqual([
      ['tcy', ['ecc T=1', 'ecc T=2']],
      ['hjh', ['ecc T=1', 'ecc T=2']],
    ]);
    for (const f of ['sweep.json', 'conversions.json', 'conversion-tcy.svg', 'conversion-hjh.svg', 'hjh-cnn/conversion.json', 'hjh-cnn/conversion.md', 'hjh-cnn/accuracy.svg'])
      expect(existsSync(join(out, f)), f).toBe(true);
    const report = readFileSync(join(out, 'report.md'), 'utf8');
    expect(report).toContain('## 5. Conversion of the trained CNN');
    expect(report).toContain('![hjh: converted SNN accuracy against T](conversion-hjh.svg)');
    expect(readFileSync(join(out, 'conversion-hjh.svg'), 'utf8')).toContain('<svg');
    const hjh = whole.conversions[1];
    expect(hjh.cnn.top1).toBe(whole.results[3].test.top1);
    // Spiking neurons fired: the converted hjh is an SNN, not the CNN again.
    for (const p of hjh.points) expect(p.spikeRate).toBeGreaterThan(0);
    const section = report.slice(report.indexOf('### hjh', report.indexOf('## 5.')));
    for (const p of hjh.points) expect(section).toMatch(new RegExp(`\\| ecc \\| ${p.steps} \\| ${(p.top1 * 100).toFixed(1)}% \\|`));

    // A re-run trains nothing and converts nothing again.
    const again = await cli(...args(), '--out', out);
    expect(again.code, again.err).toBe(0);
    expect(JSON.parse(again.out)).toMatchObject({ trained: [], skipped: whole.results.map((x) => x.id) });
    expect(again.err).toContain('hjh-cnn: conversion scored before, skipped');
  });

  it("the conversion's numbers are those of the CNN converted by `convert` and scored by `eval`", async () => {
    const model = join(dir, 'whole', 'hjh-cnn', 'model.snn');
    for (const steps of [1, 2]) {
      const snn = join(dir, `converted-t${steps}.snn`);
      const c = await cli('convert', '--model', model, '--steps', String(steps), '--method', 'ecc', '--data', data, '--out', snn);
      expect(c.code, c.err).toBe(0);
      const e = await cli('eval', snn, '--data', data, '--json');
      expect(e.code, e.err).toBe(0);
      const scored = JSON.parse(e.out);
      const point = whole.conversions[1].points.find((p) => p.steps === steps)!;
      expect(point.top1).toBe(scored.top1);
      expect(point.loss).toBeCloseTo(scored.loss, 5);
    }
  });

  it('two shards merged give the whole sweep’s results and conversions', async () => {
    const parts = [1, 2].map((k) => join(dir, `part${k}`));
    const ran: string[][] = [];
    for (const [i, out] of parts.entries()) {
      const r = await cli(...args(), '--shard', `${i + 1}/2`, '--out', out);
      expect(r.code, r.err).toBe(0);
      ran.push(JSON.parse(r.out).trained);
      expect(readFileSync(join(out, 'report.md'), 'utf8')).toContain(`| shard | ${i + 1}/2: 3 of the grid's 6 runs |`);
    }
    expect(ran).toEqual([['tcy-cnn', 'tcy-snn-t2', 'hjh-snn-t1'], ['tcy-snn-t1', 'hjh-cnn', 'hjh-snn-t2']]);
    const merged = join(dir, 'merged');
    const m = await cli('sweep', '--merge', ...parts, '--out', merged, '--json');
    expect(m.code, m.err).toBe(0);
    expect(JSON.parse(m.out).missing).toEqual([]);
    const results: RunResult[] = readJson(join(merged, 'results.json'));
    expect(results.map(machineFree)).toEqual(readJson(join(dir, 'whole', 'results.json')).map(machineFree));
    const conversions: ConversionSweep[] = readJson(join(merged, 'conversions.json'));
    expect(conversions.map(pointsOf)).toEqual(whole.conversions.map(pointsOf));
    const report = readFileSync(join(merged, 'report.md'), 'utf8');
    expect(report).toContain('## 5. Conversion of the trained CNN');
    expect(report).toContain('| missing from the grid | none |');
    for (const f of ['accuracy-hjh.svg', 'steps-tcy.svg', 'conversion-hjh.svg']) expect(existsSync(join(merged, f)), f).toBe(true);

    // Parts that wrote into one shared folder merge there as well.
    const shared = join(dir, 'shared');
    for (const part of parts) cpSync(part, shared, { recursive: true });
    const inPlace = await cli('sweep', '--merge', shared, '--out', shared, '--json');
    expect(inPlace.code, inPlace.err).toBe(0);
    expect(JSON.parse(inPlace.out).missing).toEqual([]);
    expect(readJson(join(shared, 'results.json')).map(machineFree)).toEqual(results.map(machineFree));

    // One part alone: the report says which runs of the grid it lacks.
    const half = await cli('sweep', '--merge', parts[1], '--out', join(dir, 'half'), '--json');
    expect(half.code, half.err).toBe(0);
    expect(JSON.parse(half.out).missing).toEqual(['tcy-cnn', 'tcy-snn-t2', 'hjh-snn-t1']);
    expect(half.err).toContain('missing from the grid: tcy-cnn; tcy-snn-t2; hjh-snn-t1');
    expect(readFileSync(join(dir, 'half', 'report.md'), 'utf8')).toContain('| missing from the grid | tcy-cnn; tcy-snn-t2; hjh-snn-t1 |');
    // A CNN run whose conversion was not scored is named too.
    rmSync(join(parts[1], 'hjh-cnn', 'conversion.json'));
    const unconverted = await cli('sweep', '--merge', ...parts, '--out', join(dir, 'unconverted'), '--json');
    expect(JSON.parse(unconverted.out).missing).toEqual(['hjh-cnn conversion (ecc)']);
  });

  it('refuses to merge runs or sweeps that do not belong together, naming what differs', async () => {
    const parts = [1, 2].map((k) => join(dir, `part${k}`));
    // The same run id trained with another seed.
    const other = join(dir, 'other-seed');
    cpSync(parts[0], other, { recursive: true });
    const resultPath = join(other, 'tcy-snn-t2', 'result.json');
    const result = readJson(resultPath);
    writeFileSync(resultPath, JSON.stringify({ ...result, spec: { ...result.spec, seed: 7 } }));
    const dup = await cli('sweep', '--merge', parts[0], other, '--out', join(dir, 'm1'));
    expect(dup.code).toBe(2);
    expect(dup.err).toMatch(/--merge: run tcy-snn-t2 is in .*part1 and in .*other-seed with different specs: seed 0 against 7/);
    // The same spec twice is one run.
    const same = await cli('sweep', '--merge', parts[0], join(dir, 'whole'), '--out', join(dir, 'm2'));
    expect(same.code, same.err).toBe(0);
    expect(same.err).toMatch(/tcy-cnn: in .*part1 and in .*whole with the same spec; kept the one in .*part1/);
    // Another sweep's settings.
    const manifestPath = join(other, 'sweep.json');
    const manifest = readJson(manifestPath);
    writeFileSync(manifestPath, JSON.stringify({ ...manifest, settings: { ...manifest.settings, epochs: 3 }, grid: { ...manifest.grid, epochs: 3 } }));
    const mixed = await cli('sweep', '--merge', parts[1], other, '--out', join(dir, 'm3'));
    expect(mixed.code).toBe(2);
    expect(mixed.err).toMatch(/--merge: .*part2 and .*other-seed are parts of different sweeps: epochs 1 against 3, grid .*"epochs":1.* against .*"epochs":3/);
    const bare = await cli('sweep', '--merge', data, '--out', join(dir, 'm4'));
    expect(bare.err).toMatch(/--merge: .*speech has no readable sweep\.json, so it is not the --out folder of a sweep/);
    const noOut = await cli('sweep', '--merge', parts[0]);
    expect(noOut.err).toMatch(/--merge needs --out <dir>/);
    const both = await cli('sweep', '--merge', parts[0], '--shard', '1/2', '--out', join(dir, 'm5'));
    expect(both.err).toMatch(/--shard runs a part of the grid; --merge joins parts/);
    const badShard = await cli('sweep', '--shard', '3/2', '--out', join(dir, 'm6'));
    expect(badShard.code).toBe(2);
    expect(badShard.err).toMatch(/--shard 3\/2: k must be between 1 and 2/);
    const badConvert = await cli('sweep', '--convert', 'qcfs', '--out', join(dir, 'm7'));
    expect(badConvert.err).toMatch(/--convert must be one of layer, channel, ecc/);
  });
});
