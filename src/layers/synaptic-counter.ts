// The work a synaptic layer (conv, linear) does, for activity(): dense multiply-accumulates of its CNN
// form, and what the spiking form really needs: one accumulate per input spike and weight it reaches
// (exact, borders and strides included; a count of 2 is two accumulates), or multiply-accumulates when
// its input is not spikes.
import { fmtShape } from '../engine/errors.js';
import type { Tensor } from '../engine/tensor.js';
import type { LayerActivity } from './layer.js';
import type { ForwardContext } from './layer.js';

export class SynapticCounter {
  private denseMacs = 0;
  private macs = 0;
  private acs = 0;
  private fan: Int32Array | null = null;
  private fanKey = '';

  /**
   * One forward over x. `macsPerPass`: multiply-accumulates of one dense pass over one sample.
   * `fanOut(xShape)`: weights reached by one input value, per position of the trailing block it repeats
   * over (a channel's H*W for conv, [Out] for linear); only built when the input is spikes.
   */
  add(x: Tensor, ctx: ForwardContext, macsPerPass: number, fanOut: (xShape: readonly number[]) => Int32Array): void {
    this.denseMacs += macsPerPass * ctx.batch;
    // A spiking model does its dense work at every step, even when a repeat-encoded input lets this
    // engine compute it once: count what the network computes, not the shortcut.
    if (!ctx.spikesIn) {
      this.macs += macsPerPass * ctx.batch * ctx.steps;
      return;
    }
    const key = fmtShape(x.shape.slice(1));
    if (!this.fan || key !== this.fanKey) {
      this.fan = fanOut(x.shape);
      this.fanKey = key;
    }
    const fan = this.fan;
    const P = fan.length;
    const v = x.f32;
    let acs = 0;
    for (let base = 0; base < v.length; base += P)
      for (let i = 0; i < P; i++) acs += Math.abs(v[base + i]) * fan[i]; // a −1 spike (signed neurons) is an accumulate too
    this.acs += acs;
  }

  reset(): void {
    this.denseMacs = this.macs = this.acs = 0;
  }

  report(name: string, samples: number): LayerActivity {
    const per = samples > 0 ? 1 / samples : 0;
    return { name, denseMacs: this.denseMacs * per, macs: this.macs * per, acs: this.acs * per };
  }
}

/**
 * For each of n input positions along one axis, how many of a convolution's k taps (stride s, padding
 * p, dilation d) reach it: the per-axis factor of a convolution's fan-out, which SynapticCounter.add
 * takes for spike inputs.
 */
export function tapsReaching(n: number, k: number, s: number, p: number, d = 1): Int32Array {
  const outN = Math.floor((n + 2 * p - (k - 1) * d - 1) / s) + 1;
  const r = new Int32Array(n);
  for (let o = 0; o < outN; o++)
    for (let j = 0; j < k; j++) {
      const i = o * s - p + j * d;
      if (i >= 0 && i < n) r[i]++;
    }
  return r;
}
