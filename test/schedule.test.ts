// OneCycle against PyTorch OneCycleLR(three_phase=True, anneal_strategy='cos', cycle_momentum=True):
// exact values at the phase boundaries and midpoints, and every step against a reference written
// from the documented formula (piecewise cosine between the phase end points).
import { describe, expect, it } from 'vitest';
import { OneCycle } from '../src/train/schedule.js';

/** The documented schedule, per step, written independently of the implementation. */
function reference(step: number, maxLr: number, total: number, pct: number, div = 25, finalDiv = 1e5) {
  const initial = maxLr / div;
  const min = initial / finalDiv;
  // PyTorch phase ends: pct*T - 1, 2*pct*T - 2, T - 1; each phase runs from the previous end.
  const bounds = [0, pct * total - 1, 2 * pct * total - 2, total - 1];
  const lrs = [initial, maxLr, initial, min];
  const moms = [0.95, 0.85, 0.95, 0.95];
  const k = step <= bounds[1] ? 0 : step <= bounds[2] ? 1 : 2;
  const t = (step - bounds[k]) / (bounds[k + 1] - bounds[k]);
  const w = (1 + Math.cos(Math.PI * t)) / 2; // 1 at the phase start, 0 at its end
  return { lr: lrs[k + 1] + (lrs[k] - lrs[k + 1]) * w, momentum: moms[k + 1] + (moms[k] - moms[k + 1]) * w };
}

describe('OneCycle (PyTorch three-phase semantics)', () => {
  it('hits the phase end points and midpoints exactly', () => {
    // T = 55, pct 0.2: phase ends at steps 10, 20 and 54; midpoints 5, 15 and 37.
    const s = new OneCycle({ maxLr: 0.01, totalSteps: 55, pctStart: 0.2 });
    const initial = 0.01 / 25;
    const min = initial / 1e5;
    const expectAt = (step: number, lr: number, momentum: number) => {
      const v = s.at(step);
      expect(v.lr).toBeCloseTo(lr, 15);
      expect(v.momentum).toBeCloseTo(momentum, 14);
    };
    expectAt(0, initial, 0.95);
    expectAt(5, (initial + 0.01) / 2, 0.9);
    expectAt(10, 0.01, 0.85);
    expectAt(15, (initial + 0.01) / 2, 0.9);
    expectAt(20, initial, 0.95);
    expectAt(37, (initial + min) / 2, 0.95);
    expectAt(54, min, 0.95);
  });

  it('matches the documented formula at every step, including the Piczak warm-up of 0.4', () => {
    for (const [maxLr, total, pct] of [
      [0.01, 55, 0.2],
      [0.001, 237, 0.4],
      [0.01, 1000, 0.2],
      [0.05, 33, 0.3],
    ]) {
      const s = new OneCycle({ maxLr, totalSteps: total, pctStart: pct });
      for (let step = 0; step < total; step++) {
        const got = s.at(step);
        const want = reference(step, maxLr, total, pct);
        expect(Math.abs(got.lr - want.lr)).toBeLessThanOrEqual(1e-15 + 1e-12 * want.lr);
        expect(Math.abs(got.momentum - want.momentum)).toBeLessThanOrEqual(1e-12);
      }
    }
  });

  it('warms up, peaks once and ends far below where it started', () => {
    const s = new OneCycle({ maxLr: 0.01, totalSteps: 200 });
    const lrs = Array.from({ length: 200 }, (_, i) => s.at(i).lr);
    const peak = lrs.indexOf(Math.max(...lrs));
    expect(peak).toBe(39); // 0.2 * 200 - 1
    for (let i = 1; i <= peak; i++) expect(lrs[i]).toBeGreaterThan(lrs[i - 1]);
    for (let i = peak + 1; i < 200; i++) expect(lrs[i]).toBeLessThan(lrs[i - 1]);
    expect(lrs[199]).toBeCloseTo(0.01 / 25 / 1e5, 16);
  });

  it('two-phase mode anneals from the peak straight to the minimum', () => {
    const s = new OneCycle({ maxLr: 0.01, totalSteps: 100, pctStart: 0.3, threePhase: false });
    expect(s.at(29).lr).toBeCloseTo(0.01, 15);
    expect(s.at(29).momentum).toBeCloseTo(0.85, 15);
    expect(s.at(99).lr).toBeCloseTo(0.01 / 25 / 1e5, 16);
    expect(s.at(99).momentum).toBeCloseTo(0.95, 15);
  });

  it('refuses bad settings and steps outside the run', () => {
    expect(() => new OneCycle({ maxLr: 0, totalSteps: 10 })).toThrow(/maxLr/);
    expect(() => new OneCycle({ maxLr: 0.01, totalSteps: 2.5 })).toThrow(/totalSteps/);
    expect(() => new OneCycle({ maxLr: 0.01, totalSteps: 10, pctStart: 1 })).toThrow(/pctStart/);
    const s = new OneCycle({ maxLr: 0.01, totalSteps: 10 });
    expect(() => s.at(11)).toThrow(/outside 0..10/);
    expect(() => s.at(-1)).toThrow(/outside/);
  });
});
