// Where a command writes: results on `out` (stdout), notes and progress on `err` (stderr). Tests pass
// their own to capture both and to silence progress bars.
import type { ProgressFactory } from '../util/progress.js';
import { terminalProgress } from '../util/progress-node.js';

export interface CliIo {
  out(text: string): void;
  err(text: string): void;
  progress: ProgressFactory;
}

/** One run of the CLI: a command that finishes but fails part of its work (infer on a bad WAV) raises exitCode. */
export interface CliContext {
  io: CliIo;
  exitCode: number;
}

export const processIo: CliIo = {
  out: (text) => void process.stdout.write(text),
  err: (text) => void process.stderr.write(text),
  progress: terminalProgress,
};

/** Prints a command's result: JSON on stdout under --json, else the human-readable text. */
export function emit(io: CliIo, json: boolean | undefined, value: unknown, text: () => string): void {
  if (json) io.out(JSON.stringify(value, null, 2) + '\n');
  else io.out(text() + '\n');
}

/** A note for the user; on stderr so it never mixes into --json output. */
export function note(io: CliIo, text: string): void {
  io.err(text + '\n');
}
