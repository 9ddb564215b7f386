// The commands of `snn-voice`, in the order --help lists them.
import type { Command } from 'commander';
import { benchCommand } from './bench.js';
import { convertCommand } from './convert.js';
import { demoCommand } from './demo.js';
import { evalCommand } from './eval.js';
import { exportCommand } from './export.js';
import { importCommand } from './import.js';
import { inferCommand } from './infer.js';
import type { CliContext } from './io.js';
import { listenCommand } from './listen.js';
import { sweepCommand } from './sweep.js';
import { synthCommand } from './synth.js';
import { trainCommand } from './train.js';

export const commands: ReadonlyArray<(ctx: CliContext) => Command> = [
  demoCommand,
  synthCommand,
  trainCommand,
  convertCommand,
  exportCommand,
  importCommand,
  evalCommand,
  inferCommand,
  listenCommand,
  sweepCommand,
  benchCommand,
];
