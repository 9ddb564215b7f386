// Where a data folder's feature cache lives. In order: the folder given (option cacheDir, CLI
// --cache-dir), the SNN_VOICE_CACHE environment variable, `<data>/.snn-voice-cache` when the data folder is
// writable, else the user's cache folder (XDG_CACHE_HOME or ~/.cache on Linux, ~/Library/Caches on macOS,
// %LOCALAPPDATA% on Windows) under `snn-voice`. A cache folder outside the data folder may serve several
// data sets, so each gets its own subfolder named after the data folder and a hash of its absolute path.
import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { hashSeed } from '../util/hash.js';

export const CACHE_ENV = 'SNN_VOICE_CACHE';
export const IN_FOLDER_CACHE = '.snn-voice-cache';

/** The user's cache folder for snn-voice on this platform. */
export function userCacheDir(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform, home: string = homedir()): string {
  if (platform === 'win32') return join(env.LOCALAPPDATA || join(home, 'AppData', 'Local'), 'snn-voice');
  if (platform === 'darwin') return join(home, 'Library', 'Caches', 'snn-voice');
  return join(env.XDG_CACHE_HOME || join(home, '.cache'), 'snn-voice');
}

/**
 * Whether snn-voice may write into `dir`. A folder whose permission bits grant no one write access counts
 * as read-only even for root (who could write anyway): shared read-only data stays untouched. A read-only
 * file system or missing permission fails the access test.
 */
export async function isWritableDir(dir: string): Promise<boolean> {
  try {
    const s = await stat(dir);
    if (!s.isDirectory() || (s.mode & 0o222) === 0) return false;
    await access(dir, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/** The subfolder of a shared cache folder for the data folder `root`: its name and a hash of its absolute path. */
export function dataSetCacheName(root: string): string {
  const abs = resolve(root);
  const name = basename(abs).replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 40) || 'data';
  return `${name}-${hashSeed('data-folder', abs).toString(16).padStart(8, '0')}`;
}

export interface CacheLocationOptions {
  /** A cache folder chosen by the caller. */
  cacheDir?: string;
  /** Default process.env (SNN_VOICE_CACHE, XDG_CACHE_HOME, LOCALAPPDATA). */
  env?: NodeJS.ProcessEnv;
  /** Whether a folder may be written; default isWritableDir. Tests inject one (root writes anywhere). */
  writable?: (dir: string) => boolean | Promise<boolean>;
}

export interface CacheLocation {
  /** The folder the data set's caches go in. */
  dir: string;
  /** Why there: the option, the environment variable, the data folder, or the user's cache as a fallback. */
  source: 'option' | 'env' | 'data-folder' | 'user-cache';
}

/** The folder for the feature caches of the data folder `root`. */
export async function cacheLocation(root: string, opts: CacheLocationOptions = {}): Promise<CacheLocation> {
  const env = opts.env ?? process.env;
  if (opts.cacheDir) return { dir: join(opts.cacheDir, dataSetCacheName(root)), source: 'option' };
  if (env[CACHE_ENV]) return { dir: join(env[CACHE_ENV]!, dataSetCacheName(root)), source: 'env' };
  const writable = opts.writable ?? isWritableDir;
  const inFolder = join(root, IN_FOLDER_CACHE);
  const existing = await stat(inFolder).then((s) => s.isDirectory(), () => false);
  if ((await writable(root)) && (!existing || (await writable(inFolder)))) return { dir: inFolder, source: 'data-folder' };
  return { dir: join(userCacheDir(env), dataSetCacheName(root)), source: 'user-cache' };
}
