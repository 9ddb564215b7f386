// `npm run bench [-- --filter NAME] [--quick] [--time MS] [--json FILE] [--pytorch [--python EXE]] [--threads N] [--models m5,tcy]`:
// runs every bench/*.bench.ts. --pytorch measures PyTorch live beside ours where a suite can (models: training steps; conv: each kernel);
// --threads runs the model zoo (ours and PyTorch) at N threads; --models keeps the zoo's rows to those models.
import { readdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { MODEL_NAMES } from '../src/models/config.js';
import { type BenchOptions, type BenchRow, type BenchSuite, formatTable } from './harness.js';

const USAGE =
  'usage: npm run bench -- [--filter NAME] [--quick] [--time MS] [--json FILE] [--pytorch [--python EXE]] [--threads N] [--models m5,tcy]';
const VALUE_FLAGS = ['--filter', '--time', '--json', '--python', '--threads', '--models'];
const SWITCHES = ['--quick', '--pytorch'];

/** Every argument is a known flag (with its value where it takes one): a typo must not run the whole suite. */
function checkArguments(argv: readonly string[]): void {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (SWITCHES.includes(a)) continue;
    if (!VALUE_FLAGS.includes(a)) throw new Error(`unknown argument ${JSON.stringify(a)}\n${USAGE}`);
    const value = argv[++i];
    if (value === undefined || value.startsWith('--')) throw new Error(`${a} needs a value\n${USAGE}`);
  }
}

export async function runBenchmarks(argv: string[] = process.argv.slice(2)): Promise<Record<string, BenchRow[]>> {
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(USAGE);
    return {};
  }
  checkArguments(argv);
  const arg = (name: string): string | undefined => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const filter = arg('--filter');
  const options: BenchOptions = {
    time: Number(arg('--time') ?? 500),
    quick: argv.includes('--quick'),
    pytorch: argv.includes('--pytorch') || argv.includes('--python'),
    python: arg('--python'),
    threads: Number(arg('--threads') ?? 1),
    models: arg('--models')?.split(',').map((m) => m.trim()),
  };
  if (!(Number.isInteger(options.threads) && options.threads! >= 1)) throw new Error(`--threads must be a positive integer, got ${arg('--threads')}`);
  const unknown = options.models?.filter((m) => !(MODEL_NAMES as readonly string[]).includes(m)) ?? [];
  if (unknown.length) throw new Error(`--models: no model ${unknown.join(', ')}; the zoo has ${MODEL_NAMES.join(', ')}`);
  if (!(options.time > 0)) throw new Error(`--time must be a positive number of milliseconds, got ${arg('--time')}`);
  const dir = fileURLToPath(new URL('.', import.meta.url));
  const files = readdirSync(dir).filter((f) => /\.bench\.(ts|js)$/.test(f) && (!filter || f.includes(filter))).sort();
  if (files.length === 0) throw new Error(`no benchmark matches --filter ${filter}`);
  const results: Record<string, BenchRow[]> = {};
  for (const file of files) {
    const { suite } = (await import(pathToFileURL(dir + file).href)) as { suite: BenchSuite };
    const rows = await suite.run(options);
    results[suite.name] = rows;
    console.log(formatTable(suite.name, rows) + '\n');
  }
  const json = arg('--json');
  if (json) writeFileSync(json, JSON.stringify(results, null, 2));
  return results;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  runBenchmarks().catch((err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
