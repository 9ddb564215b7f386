import { describe, expect, it } from 'vitest';
import { barChart, lineChart, niceTicks } from '../src/train/svg.js';

/** Checks that tags nest properly (a small XML scanner: no comments or CDATA are produced). */
function expectBalanced(svg: string): void {
  const stack: string[] = [];
  for (const m of svg.matchAll(/<(\/?)([a-zA-Z]+)([^>]*?)(\/?)>/g)) {
    const [, closing, name, , selfClosing] = m;
    if (selfClosing) continue;
    if (closing) expect(stack.pop(), `closing </${name}>`).toBe(name);
    else stack.push(name);
  }
  expect(stack).toEqual([]);
  expect(svg.trimStart().startsWith('<svg')).toBe(true);
  expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
  // Text content must not contain raw markup characters.
  for (const m of svg.matchAll(/>([^<]*)</g)) expect(m[1]).not.toMatch(/[<>]/);
}

function viewBox(svg: string): [number, number, number, number] {
  const m = /viewBox="([^"]+)"/.exec(svg);
  expect(m).not.toBeNull();
  return m![1].split(/\s+/).map(Number) as [number, number, number, number];
}

/** Every numeric attribute is finite, and every x/y coordinate lies inside the view box. */
function expectInside(svg: string): void {
  const [vx, vy, vw, vh] = viewBox(svg);
  for (const m of svg.matchAll(/\s([a-z-]+)="(-?[0-9.eE+-]+)"/g)) expect(Number.isFinite(Number(m[2])), `${m[1]}="${m[2]}"`).toBe(true);
  expect(svg).not.toMatch(/NaN|Infinity/);
  for (const m of svg.matchAll(/\s(x|x1|x2|cx)="([^"]+)"/g)) {
    const v = Number(m[2]);
    expect(v).toBeGreaterThanOrEqual(vx);
    expect(v).toBeLessThanOrEqual(vx + vw);
  }
  for (const m of svg.matchAll(/\s(y|y1|y2|cy)="([^"]+)"/g)) {
    const v = Number(m[2]);
    expect(v).toBeGreaterThanOrEqual(vy);
    expect(v).toBeLessThanOrEqual(vy + vh);
  }
  for (const m of svg.matchAll(/points="([^"]+)"/g))
    for (const pair of m[1].trim().split(/\s+/)) {
      const [px, py] = pair.split(',').map(Number);
      expect(px >= vx && px <= vx + vw && py >= vy && py <= vy + vh, `point ${pair}`).toBe(true);
    }
  for (const m of svg.matchAll(/<rect x="([^"]+)" y="([^"]+)" width="([^"]+)" height="([^"]+)"/g)) {
    const [x, y, w, h] = m.slice(1).map(Number);
    expect(w).toBeGreaterThanOrEqual(0);
    expect(h).toBeGreaterThanOrEqual(0);
    expect(x + w).toBeLessThanOrEqual(vx + vw + 1e-6);
    expect(y + h).toBeLessThanOrEqual(vy + vh + 1e-6);
  }
}

describe('niceTicks', () => {
  it('covers the range with round steps', () => {
    expect(niceTicks(0, 1)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(niceTicks(1, 30)).toEqual([10, 20, 30]);
    expect(niceTicks(0, 0.5)).toEqual([0, 0.1, 0.2, 0.3, 0.4, 0.5]);
    const t = niceTicks(-3.7, 12.2);
    expect(t[0]).toBeGreaterThanOrEqual(-3.7);
    expect(t[t.length - 1]).toBeLessThanOrEqual(12.2);
    expect(t.length).toBeGreaterThanOrEqual(3);
  });
  it('refuses a non-finite range', () => {
    expect(() => niceTicks(0, Number.NaN)).toThrow(/not finite/);
  });
});

describe('lineChart', () => {
  const series = [
    { name: 'CNN <hjh>', points: [[1, 0.2], [2, 0.5], [3, 0.71]] as [number, number][] },
    { name: 'SNN T=5 & beta', points: [[1, 0.1], [2, 0.35], [3, Number.NaN], [4, 0.6]] as [number, number][] },
    { name: 'baseline', points: [[1, 0.7], [4, 0.7]] as [number, number][], dashed: true },
  ];

  it('is well-formed, escapes text, keeps every point inside the view box', () => {
    const svg = lineChart({ title: 'Accuracy "over" epochs', xLabel: 'epoch', yLabel: 'top-1', series, yRange: [0, 1] });
    expectBalanced(svg);
    expectInside(svg);
    expect(svg).toContain('CNN &lt;hjh&gt;');
    expect(svg).toContain('SNN T=5 &amp; beta');
    expect(svg).toContain('&quot;over&quot;');
    expect(svg.match(/<polyline/g)).toHaveLength(3);
    expect(svg).toContain('stroke-dasharray');
    // The NaN point is dropped: 3 + 3 solid markers, none for the dashed baseline.
    expect(svg.match(/<circle/g)).toHaveLength(6);
  });

  it('places a higher value higher on the page', () => {
    const svg = lineChart({ title: 't', xLabel: 'x', yLabel: 'y', series: [{ name: 'a', points: [[0, 0], [1, 10]] }] });
    const pts = /points="([^"]+)"/.exec(svg)![1].split(' ').map((p) => p.split(',').map(Number));
    expect(pts[1][0]).toBeGreaterThan(pts[0][0]);
    expect(pts[1][1]).toBeLessThan(pts[0][1]);
  });

  it('handles a single point, flat data and an empty series', () => {
    for (const s of [[[5, 0.3]], [[1, 2], [2, 2]], []] as [number, number][][]) {
      const svg = lineChart({ title: 't', xLabel: 'x', yLabel: 'y', series: [{ name: 'a', points: s }] });
      expectBalanced(svg);
      expectInside(svg);
    }
  });

  it('labels the x axis at the ticks given, inside the data range only', () => {
    const svg = lineChart({ title: 't', xLabel: 'T', yLabel: 'y', series: [{ name: 'a', points: [[1, 0.1], [5, 0.2], [30, 0.3]] }], xTicks: [1, 5, 30, 99] });
    expectBalanced(svg);
    expectInside(svg);
    const labels = [...svg.matchAll(/<text x="[^"]+" y="[^"]+" text-anchor="middle">([^<]+)<\/text>/g)].map((m) => m[1]);
    expect(labels).toEqual(expect.arrayContaining(['1', '5', '30']));
    expect(labels).not.toContain('99');
  });

  it('on a log x axis puts doubling steps evenly apart and leaves out x <= 0', () => {
    const svg = lineChart({
      title: 't', xLabel: 'T', yLabel: 'y', xLog: true, xTicks: [1, 2, 4, 8],
      series: [{ name: 'a', points: [[0, 0.5], [1, 0.1], [2, 0.2], [4, 0.3], [8, 0.4]] }],
    });
    expectBalanced(svg);
    expectInside(svg);
    const xs = /points="([^"]+)"/.exec(svg)![1].split(' ').map((p) => Number(p.split(',')[0]));
    expect(xs).toHaveLength(4);
    expect(xs[2] - xs[1]).toBeCloseTo(xs[1] - xs[0], 1);
    expect(xs[3] - xs[2]).toBeCloseTo(xs[1] - xs[0], 1);
  });

  it('clamps values outside a fixed y range to the plot', () => {
    const svg = lineChart({ title: 't', xLabel: 'x', yLabel: 'y', series: [{ name: 'a', points: [[0, -5], [1, 5]] }], yRange: [0, 1] });
    expectInside(svg);
  });

  it('refuses an empty y range and a tiny canvas', () => {
    expect(() => lineChart({ title: 't', xLabel: 'x', yLabel: 'y', series: [], yRange: [1, 1] })).toThrow(/empty/);
    expect(() => lineChart({ title: 't', xLabel: 'x', yLabel: 'y', series: [], width: 10 })).toThrow(/too small/);
  });
});

describe('barChart', () => {
  it('is well-formed with one bar per finite value, heights proportional to values', () => {
    const svg = barChart({
      title: 'Seconds per epoch',
      yLabel: 's',
      categories: ['m5', 'piczak', 'hjh'],
      series: [
        { name: 'CNN', values: [1, 2, 4] },
        { name: 'SNN', values: [3, Number.NaN, 8] },
      ],
    });
    expectBalanced(svg);
    expectInside(svg);
    const bars = [...svg.matchAll(/<rect x="[^"]+" y="[^"]+" width="[^"]+" height="([^"]+)" fill="#[0-9A-F]+"><title>/g)].map((m) => Number(m[1]));
    expect(bars).toHaveLength(5);
    // Values 1, 3, 2, 4, 8 in drawing order (category-major).
    expect(bars[1] / bars[0]).toBeCloseTo(3, 1);
    expect(bars[4] / bars[3]).toBeCloseTo(2, 1);
  });

  it('ends the axis on a labelled tick above the tallest bar', () => {
    const svg = barChart({ title: 't', yLabel: 's', categories: ['hjh'], series: [{ name: 'SNN', values: [22] }] });
    const labels = [...svg.matchAll(/text-anchor="end" dominant-baseline="middle">([^<]+)</g)].map((m) => Number(m[1]));
    expect(Math.max(...labels)).toBe(25);
  });

  it('draws negative values below the zero line and refuses ragged series', () => {
    const svg = barChart({ title: 't', yLabel: 'y', categories: ['a', 'b'], series: [{ name: 's', values: [-2, 3] }] });
    expectBalanced(svg);
    expectInside(svg);
    expect(() => barChart({ title: 't', yLabel: 'y', categories: ['a'], series: [{ name: 's', values: [1, 2] }] })).toThrow(/categories/);
  });
});
