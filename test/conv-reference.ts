// Naive f64 convolution references for the kernel tests: plain loops over every (output, tap) pair,
// independent of every path the kernels take.
export interface Geo { N: number; C: number; H: number; W: number; CO: number; KH: number; KW: number; SH: number; SW: number; PH: number; PW: number }

export const outH = (g: Geo) => Math.floor((g.H + 2 * g.PH - g.KH) / g.SH) + 1;
export const outW = (g: Geo) => Math.floor((g.W + 2 * g.PW - g.KW) / g.SW) + 1;

// Visits every (output position, weight tap) pair whose input lies inside x; f gets flat indices.
function eachTap(g: Geo, f: (yi: number, xi: number, wi: number, co: number) => void): void {
  const OH = outH(g), OW = outW(g);
  for (let n = 0; n < g.N; n++)
    for (let co = 0; co < g.CO; co++)
      for (let oh = 0; oh < OH; oh++)
        for (let ow = 0; ow < OW; ow++) {
          const yi = ((n * g.CO + co) * OH + oh) * OW + ow;
          for (let c = 0; c < g.C; c++)
            for (let kh = 0; kh < g.KH; kh++) {
              const ih = oh * g.SH + kh - g.PH;
              if (ih < 0 || ih >= g.H) continue;
              for (let kw = 0; kw < g.KW; kw++) {
                const iw = ow * g.SW + kw - g.PW;
                if (iw < 0 || iw >= g.W) continue;
                f(yi, ((n * g.C + c) * g.H + ih) * g.W + iw, ((co * g.C + c) * g.KH + kh) * g.KW + kw, co);
              }
            }
        }
}

// Naive f64 references.
export function refForward(g: Geo, x: ArrayLike<number>, w: ArrayLike<number>, b: ArrayLike<number> | null): Float64Array {
  const OHW = outH(g) * outW(g);
  const y = new Float64Array(g.N * g.CO * OHW);
  if (b) for (let i = 0; i < y.length; i++) y[i] = b[Math.floor(i / OHW) % g.CO];
  eachTap(g, (yi, xi, wi) => (y[yi] += x[xi] * w[wi]));
  return y;
}

export function refBackward(g: Geo, x: ArrayLike<number>, w: ArrayLike<number>, dy: ArrayLike<number>) {
  const dx = new Float64Array(g.N * g.C * g.H * g.W);
  const dw = new Float64Array(g.CO * g.C * g.KH * g.KW);
  const db = new Float64Array(g.CO);
  const OHW = outH(g) * outW(g);
  for (let i = 0; i < dy.length; i++) db[Math.floor(i / OHW) % g.CO] += dy[i];
  eachTap(g, (yi, xi, wi) => {
    dx[xi] += w[wi] * dy[yi];
    dw[wi] += x[xi] * dy[yi];
  });
  return { dx, dw, db };
}
