// `snn-voice bench`: the benchmark suite (bench/*.bench.ts), the same as `npm run bench`. The suite is
// compiled next to the CLI (dist/bench) and loaded only when asked for; it needs the dev dependencies
// (tinybench, tfjs), so it runs from a clone of the repository, not from an installed package.
import { Command } from 'commander';
import { type CliContext, emit } from './io.js';
import { UsageError, numberIn, positiveInt, withJson } from './options.js';

interface BenchFlags {
  filter?: string;
  quick?: boolean;
  time: number;
  threads: number;
  models?: string;
  json?: boolean;
}

export function benchCommand(ctx: CliContext): Command {
  const cmd = new Command('bench')
    .description('run the benchmark suite: kernels against baselines, epoch time and inference latency')
    .option('--filter <name>', 'only suites whose file name contains this')
    .option('--quick', 'fewer and smaller cases')
    .option('--time <ms>', 'milliseconds measured per case and contender', numberIn('--time', 0, Infinity, true), 500)
    .option('--threads <n>', 'threads for the model zoo (ours and PyTorch) and the threads suite (docs/threads.md)', positiveInt('--threads'), 1)
    .option('--models <list>', 'only these models in the zoo suites (models, threads), comma-separated, e.g. tcy,hjh');
  withJson(cmd);
  return cmd.action(async (flags: BenchFlags) => {
    const { io } = ctx;
    let suite: typeof import('../../bench/index.js');
    try {
      suite = await import('../../bench/index.js');
    } catch (e) {
      throw new Error(`the benchmarks cannot load (${(e as Error).message}); run them from a clone of the repository with its dev dependencies installed`);
    }
    const argv = ['--time', String(flags.time), '--threads', String(flags.threads), ...(flags.quick ? ['--quick'] : []), ...(flags.filter ? ['--filter', flags.filter] : []), ...(flags.models ? ['--models', flags.models] : [])];
    // The suite prints its tables with console.log; under --json they go to stderr, the JSON to stdout.
    const log = console.log;
    console.log = (...args: unknown[]) => (flags.json ? io.err : io.out)(args.map(String).join(' ') + '\n');
    let results;
    try {
      results = await suite.runBenchmarks(argv);
    } catch (e) {
      // The suite's own argument errors are the user's to fix, like a bad option.
      if (e instanceof Error && /^(no benchmark matches|--models: )/.test(e.message)) throw new UsageError(e.message);
      throw e;
    } finally {
      console.log = log;
    }
    if (flags.json) emit(io, true, results, () => '');
  });
}
