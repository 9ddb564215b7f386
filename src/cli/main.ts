#!/usr/bin/env node
// The `snn-voice` command. `run(argv)` does the work and returns the exit code, so tests call it in
// process; this file calls it only when executed directly (as the installed bin or with tsx).
import '../engine/relaxed-simd-node.js'; // first: lets V8 compile the relaxed-SIMD build before the engine is created
import '../engine/threads-node.js'; // lets --threads start worker threads
import { readFileSync, realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { Command, CommanderError } from 'commander';
import { type CliContext, type CliIo, processIo } from './io.js';
import { InterruptedError, interrupt } from './interrupt.js';
import { UsageError } from './options.js';
import { commands } from './commands.js';
import { packageFile } from '../util/package-root-node.js';

/** Errors the user can fix (bad option, missing or malformed file): one line, no stack trace. */
function isUserError(e: unknown): boolean {
  if (!(e instanceof Error)) return false;
  if (e instanceof UsageError) return true;
  if (['ModelFileError', 'WavError', 'ShapeError', 'DataError', 'InterruptedError', 'ConversionError'].includes(e.name)) return true;
  return typeof (e as NodeJS.ErrnoException).code === 'string' && /^E[A-Z]+$/.test((e as NodeJS.ErrnoException).code!);
}

/** This package's version, from its package.json (above src/cli/ in a clone, dist/src/cli/ when built). */
function packageVersion(): string {
  const path = packageFile('package.json');
  if (path === null) return 'unknown';
  const pkg = JSON.parse(readFileSync(path, 'utf8')) as { name?: string; version?: string };
  return pkg.name === 'snn-voice' && pkg.version ? pkg.version : 'unknown';
}

export function program(ctx: CliContext): Command {
  const { io } = ctx;
  const root = new Command('snn-voice')
    .description('Spiking and convolutional neural networks for keyword spotting, on a WebAssembly engine.')
    .version(packageVersion(), '-V, --version', 'print the version')
    .showHelpAfterError('(add --help for usage)')
    .addHelpText('after', '\nRun `snn-voice <command> --help` for the options of a command.');
  for (const make of commands) root.addCommand(make(ctx));
  // addCommand does not copy settings: apply them to every command so none calls process.exit.
  const settle = (cmd: Command): void => {
    cmd.exitOverride().configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s) });
    cmd.commands.forEach(settle);
  };
  settle(root);
  return root;
}

/** Runs the CLI on `argv` (the arguments after the program name); resolves to the exit code. */
export async function run(argv: string[], io: CliIo = processIo): Promise<number> {
  const ctx: CliContext = { io, exitCode: 0 };
  try {
    const cmd = program(ctx);
    if (argv.length === 0) {
      cmd.outputHelp();
      return 2;
    }
    await cmd.parseAsync(argv, { from: 'user' });
    return ctx.exitCode;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2; // commander already printed the message
    if (isUserError(e)) {
      io.err(`error: ${(e as Error).message}\n`);
      return e instanceof UsageError ? 2 : e instanceof InterruptedError ? 130 : 1;
    }
    io.err(`error: ${e instanceof Error ? e.message : String(e)}\n`);
    if (e instanceof Error && e.stack) io.err(`${process.env.SNN_VOICE_DEBUG ? e.stack : '(set SNN_VOICE_DEBUG=1 for the stack trace)'}\n`);
    return 1;
  }
}

function executedDirectly(): boolean {
  const entry = process.argv[1];
  if (!entry) return false;
  try {
    return import.meta.url === pathToFileURL(realpathSync(entry)).href;
  } catch {
    return false;
  }
}

if (executedDirectly()) {
  // `snn-voice ... | head` closes the pipe early: stop quietly instead of throwing EPIPE.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0);
    throw e;
  });
  // A terminal's Ctrl-C reaches every process of the group, and launchers (npm, npx, tsx) pass it on as
  // well: signals within a second of the first are the same key press.
  let firstInterrupt = 0;
  process.on('SIGINT', () => {
    if (firstInterrupt && Date.now() - firstInterrupt < 1000) return;
    if (!interrupt.take()) process.exit(130);
    firstInterrupt = Date.now();
    process.stderr.write(`\n${interrupt.notice} (Ctrl-C again to quit now)\n`);
  });
  run(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
