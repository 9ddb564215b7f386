// Option parsing for the CLI: each parser turns the raw string into a checked value or throws a
// UsageError whose message names the option and says what was expected, e.g.
//   --steps must be a positive integer, got "abc"
import { existsSync, statSync } from 'node:fs';
import type { Command } from 'commander';
import { COMMAND_WORDS, WORDS } from '../data/words.js';

/** A mistake in how the command was called (bad option, missing file): printed as one line, no stack. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export type Parser<T> = (raw: string) => T;

export function positiveInt(option: string): Parser<number> {
  return (raw) => {
    const v = Number(raw);
    if (!/^\s*\d+\s*$/.test(raw) || !Number.isSafeInteger(v) || v <= 0)
      throw new UsageError(`${option} must be a positive integer, got "${raw}"`);
    return v;
  };
}

export function nonNegativeInt(option: string): Parser<number> {
  return (raw) => {
    const v = Number(raw);
    if (!/^\s*\d+\s*$/.test(raw) || !Number.isSafeInteger(v)) throw new UsageError(`${option} must be a non-negative integer, got "${raw}"`);
    return v;
  };
}

/** A finite number in [min, max] (either bound may be open-ended); `exclusiveMin` excludes min itself. */
export function numberIn(option: string, min: number, max: number, exclusiveMin = false): Parser<number> {
  return (raw) => {
    const v = Number(raw);
    const ok = raw.trim() !== '' && Number.isFinite(v) && (exclusiveMin ? v > min : v >= min) && v <= max;
    if (!ok) {
      const range =
        max === Infinity ? (exclusiveMin ? `greater than ${min}` : `at least ${min}`) : `${exclusiveMin ? 'above' : 'from'} ${min} to ${max}`;
      throw new UsageError(`${option} must be a number ${range}, got "${raw}"`);
    }
    return v;
  };
}

export function choice<T extends string>(option: string, values: readonly T[]): Parser<T> {
  return (raw) => {
    if (!(values as readonly string[]).includes(raw))
      throw new UsageError(`${option} must be one of ${values.join(', ')}, got "${raw}"`);
    return raw as T;
  };
}

/** A comma-separated list, each item checked by `item`; duplicates removed, order kept. */
export function listOf<T>(option: string, item: Parser<T>): Parser<T[]> {
  return (raw) => {
    const parts = raw.split(',').map((s) => s.trim());
    if (parts.some((p) => p === '')) throw new UsageError(`${option} must be a comma-separated list, got "${raw}"`);
    return [...new Set(parts.map(item))];
  };
}

/** Words to train on: a list, or 'all' for every word folder the data has. */
export type WordChoice = readonly string[] | 'all';

/** `all`, `commands` (the ten command words) or a comma-separated list of words. */
export function wordList(option: string): Parser<WordChoice> {
  const each = listOf(option, choice(option, WORDS));
  return (raw) => {
    const v = raw.trim();
    return v === 'all' ? 'all' : v === 'commands' ? COMMAND_WORDS : each(v);
  };
}

/** on/off, true/false, yes/no, 1/0. */
export function onOff(option: string): Parser<boolean> {
  return (raw) => {
    const v = raw.trim().toLowerCase();
    if (['on', 'true', 'yes', '1'].includes(v)) return true;
    if (['off', 'false', 'no', '0'].includes(v)) return false;
    throw new UsageError(`${option} must be on or off, got "${raw}"`);
  };
}

export function existingDir(option: string, path: string): string {
  if (!existsSync(path)) throw new UsageError(`${option}: folder "${path}" does not exist`);
  if (!statSync(path).isDirectory()) throw new UsageError(`${option}: "${path}" is not a folder`);
  return path;
}

export function existingFile(what: string, path: string): string {
  if (!existsSync(path)) throw new UsageError(`${what}: file "${path}" does not exist`);
  if (!statSync(path).isFile()) throw new UsageError(`${what}: "${path}" is not a file`);
  return path;
}

/** `--json` on a command: machine-readable result on stdout, progress and notes on stderr. */
export function withJson(cmd: Command): Command {
  return cmd.option('--json', 'print the result as JSON on stdout (progress goes to stderr)');
}
