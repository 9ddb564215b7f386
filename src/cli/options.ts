// Option parsing for the CLI: each parser turns the raw string into a checked value or throws a
// UsageError whose message names the option and says what was expected, e.g.
//   --steps must be a positive integer, got "abc"
import { existsSync, statSync } from 'node:fs';
import { type Command, Option } from 'commander';
import { SPECIAL_CLASSES, TASK_NAMES, type TaskName } from '../data/tasks.js';
import { COMMAND_WORDS, WORDS } from '../data/words.js';
import { PRETRAINED, pretrainedPath } from '../models/pretrained-node.js';
import type { Schema, Setting, SettingsOf, ValueOf } from '../util/schema.js';

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

/** An integer >= min: positiveInt for 1, nonNegativeInt for 0. */
export function integerFrom(option: string, min: number): Parser<number> {
  if (min === 1) return positiveInt(option);
  if (min === 0) return nonNegativeInt(option);
  return (raw) => {
    const v = Number(raw);
    if (!/^\s*-?\d+\s*$/.test(raw) || !Number.isSafeInteger(v) || v < min) throw new UsageError(`${option} must be an integer >= ${min}, got "${raw}"`);
    return v;
  };
}

/** A finite number in [min, max] (either bound may be open-ended); `exclusiveMin` and `exclusiveMax` exclude the bound itself. */
export function numberIn(option: string, min: number, max: number, exclusiveMin = false, exclusiveMax = false): Parser<number> {
  return (raw) => {
    const v = Number(raw);
    const ok = raw.trim() !== '' && Number.isFinite(v) && (exclusiveMin ? v > min : v >= min) && (exclusiveMax ? v < max : v <= max);
    if (!ok) {
      const range =
        max === Infinity
          ? exclusiveMin ? `greater than ${min}` : `at least ${min}`
          : `${exclusiveMin ? 'above' : 'from'} ${min} to ${exclusiveMax ? 'below ' : ''}${max}`;
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

/** What to tell apart: a standard task (data/tasks.ts), 'all' the word folders there are, or a list of
 *  words that may name `_silence_` and `_unknown_`. */
export type TaskChoice = TaskName | WordChoice;

/** `gsc12`, `gsc35`, or what wordList takes, where a list may also name `_silence_` and `_unknown_`. */
export function taskChoice(option: string): Parser<TaskChoice> {
  const words = wordList(option);
  const each = listOf(option, choice(option, [...SPECIAL_CLASSES, ...WORDS]));
  return (raw) => {
    const v = raw.trim();
    if ((TASK_NAMES as readonly string[]).includes(v)) return v as TaskName;
    if (/^[a-z0-9]+$/i.test(v) && !WORDS.includes(v) && v !== 'all' && v !== 'commands')
      throw new UsageError(`${option} must be gsc12, gsc35, all, commands or a comma-separated list of words, got "${raw}"`);
    // Plain words keep --words' rules; a list naming _silence_ or _unknown_ (or a mistake) is checked
    // against every name a task may hold.
    return v === 'all' || v === 'commands' || v.split(',').every((w) => WORDS.includes(w.trim())) ? words(v) : each(v);
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

const PRETRAINED_NAMES = Object.keys(PRETRAINED);

/** How a model argument is described in a command's help. */
export const MODEL_HELP = `a model file written by train (model.snn), or a model shipped in the package: ${PRETRAINED_NAMES.join(', ')}`;

/**
 * A model file given on the command line, as a path: a file, or the name of a model shipped in the
 * package (kws-cnn) when no file of that name exists here, so `listen --model kws-snn` works from any
 * folder.
 */
export function modelFile(what: string): Parser<string> {
  return (raw) => {
    if (existsSync(raw)) return existingFile(what, raw);
    if (PRETRAINED_NAMES.includes(raw)) return pretrainedPath(raw);
    // A bare word was likely meant as a shipped model's name: say which there are.
    if (/^[\w-]+$/.test(raw))
      throw new UsageError(`${what}: file "${raw}" does not exist, and it is not a model shipped in the package (${PRETRAINED_NAMES.join(', ')})`);
    return existingFile(what, raw);
  };
}

/** `--json` on a command: machine-readable result on stdout, progress and notes on stderr. */
export function withJson(cmd: Command): Command {
  return cmd.option('--json', 'print the result as JSON on stdout (progress goes to stderr)');
}

// Flags of declared settings (util/schema.ts, models/settings.ts): the flag, its help, default and
// parser all come from the setting, so a command lists a setting by naming it.

/** The flag's name without its value, e.g. '--beta' of '--beta <b>'. */
export function flagName(s: Setting): string {
  if (!s.flag) throw new Error(`the setting "${s.help}" has no CLI flag`);
  return s.flag.split(' ')[0];
}

/** Parses a flag's value by the setting's rule, in the CLI's words ("--beta must be a number from 0 to 1"). */
export function settingParser<S extends Setting>(option: string, s: S): Parser<ValueOf<S>> {
  const parse: Parser<unknown> =
    s.kind === 'integer' ? integerFrom(option, s.min)
    : s.kind === 'number' ? numberIn(option, s.min, s.max ?? Infinity, s.exclusiveMin)
    : s.kind === 'oneOf' ? choice(option, s.values)
    : onOff(option);
  return parse as Parser<ValueOf<S>>;
}

/** What a command changes of a setting's flag: a narrower list, another default, or none and a note instead. */
export interface FlagVariant<T> {
  values?: readonly T[];
  /** Another default; `undefined` for none. */
  default?: T;
  /** Shown as "(default <note>)" when the default depends on something else, e.g. 'by --neuron'. */
  defaultNote?: string;
}

/**
 * The commander option of a declared setting: its flag; its help with a list's values or a number's
 * range appended; its default (none for a switch); its parser.
 */
export function settingOption<S extends Setting>(s: S, variant: FlagVariant<ValueOf<S>> = {}): Option {
  const values = s.kind === 'oneOf' ? ((variant.values ?? s.values) as readonly string[]) : undefined;
  const range = s.kind === 'number' && s.max !== undefined ? `, ${s.min} to ${s.max}` : '';
  const help = `${s.help}${values ? `: ${values.join(', ')}` : range}${variant.defaultNote ? ` (default ${variant.defaultNote})` : ''}`;
  const name = flagName(s);
  const option = new Option(s.flag!, help);
  if (!option.required) return option; // a switch (a boolean): given is true, absent leaves the setting's default
  option.argParser<unknown>(values ? choice(name, values) : settingParser(name, s));
  const value = 'default' in variant || variant.defaultNote ? variant.default : s.default;
  if (value !== undefined) option.default(value);
  return option;
}

/** The settings of `schema` that a command's parsed flags hold (switches given are true), keyed as the schema. */
export function settingsFromFlags<S extends Schema>(schema: S, flags: object): Partial<SettingsOf<S>> {
  const given = flags as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [key, s] of Object.entries(schema) as Array<[string, Setting]>) {
    if (!s.flag) continue;
    const value = given[new Option(s.flag).attributeName()];
    if (value !== undefined) out[key] = value;
  }
  return out as Partial<SettingsOf<S>>;
}
