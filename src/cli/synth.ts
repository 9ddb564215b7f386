// `snn-voice synth`: builds the built-in data set (spoken keywords synthesized with eSpeak NG, Flite,
// GnuSpeech and SVOX Pico, in the Speech Commands v2 layout) so everything runs without downloading the real corpus.
import { Command } from 'commander';
import { WORDS } from '../data/words.js';
import { DEFAULT_ACCENTED_VOICES, DEFAULT_FLITE_SHARE, DEFAULT_GNUSPEECH_SHARE, DEFAULT_PICO_VOICES } from '../data/speakers.js';
import { builtinDataDir, synthesizeSpeechCommands } from '../data/synth-node.js';
import { type CliContext, emit } from './io.js';
import { UsageError, listOf, nonNegativeInt, numberIn, positiveInt, withJson } from './options.js';
import { formatTable } from './table.js';

interface SynthFlags {
  out?: string;
  words?: string[];
  clipsPerWord?: number;
  seed?: number;
  fliteShare?: number;
  gnuspeechShare?: number;
  picoVoices?: number;
  accentedVoices?: number;
  json?: boolean;
}

export function synthCommand(ctx: CliContext): Command {
  const cmd = new Command('synth')
    .description('synthesize the built-in keyword data set (Speech Commands v2 layout)')
    .option('--out <dir>', 'where to write it (default: the built-in data folder)')
    .option('--words <list>', 'comma-separated subset of the 35 words (default: all)', listOf('--words', (w) => {
      if (!WORDS.includes(w)) throw new UsageError(`--words: "${w}" is not one of the Speech Commands words (${WORDS.join(', ')})`);
      return w;
    }))
    .option('--clips-per-word <n>', 'clips per word', positiveInt('--clips-per-word'))
    .option('--seed <n>', 'seed of voices and variations', nonNegativeInt('--seed'))
    .option('--flite-share <s>', `share of the voices rendered by Flite instead of eSpeak NG, 0 to 1 (default ${DEFAULT_FLITE_SHARE})`, numberIn('--flite-share', 0, 1))
    .option('--gnuspeech-share <s>', `share of the voices rendered by GnuSpeech instead of eSpeak NG (an articulatory synthesizer; each voice a tube model of its own), 0 to 1 with the Flite share (default ${DEFAULT_GNUSPEECH_SHARE})`, numberIn('--gnuspeech-share', 0, 1))
    .option('--pico-voices <n>', `training voices rendered by SVOX Pico beyond the --clips-per-word voices, each speaking every word (its two recorded voices, each speaker given a pitch and a tract of its own) (default ${DEFAULT_PICO_VOICES})`, nonNegativeInt('--pico-voices'))
    .option('--accented-voices <n>', `training voices rendered by SVOX Pico's German, Spanish, French and Italian voices after those, each saying the nine command words they say well (all but go) with an accent; a lever for real people under trial, off by default (default ${DEFAULT_ACCENTED_VOICES})`, nonNegativeInt('--accented-voices'));
  withJson(cmd);
  return cmd.action(async (flags: SynthFlags) => {
    const { io } = ctx;
    const flite = flags.fliteShare ?? DEFAULT_FLITE_SHARE;
    const gnuspeech = flags.gnuspeechShare ?? DEFAULT_GNUSPEECH_SHARE;
    const byDefault = (given: number | undefined) => (given === undefined ? ' (its default)' : '');
    if (flite + gnuspeech > 1)
      throw new UsageError(
        `--gnuspeech-share ${gnuspeech}${byDefault(flags.gnuspeechShare)} and --flite-share ${flite}${byDefault(flags.fliteShare)} add up to more than 1: lower --flite-share or --gnuspeech-share (e.g. --flite-share 0 for GnuSpeech and eSpeak NG alone, --gnuspeech-share 0 for eSpeak NG and Flite alone)`,
      );
    const out = flags.out ?? builtinDataDir();
    const summary = await synthesizeSpeechCommands({
      out,
      words: flags.words,
      clipsPerWord: flags.clipsPerWord,
      seed: flags.seed,
      fliteShare: flags.fliteShare,
      gnuspeechShare: flags.gnuspeechShare,
      picoVoices: flags.picoVoices,
      accentedVoices: flags.accentedVoices,
      progress: io.progress,
    });
    emit(io, flags.json, { out, ...summary }, () =>
      [`wrote the data set to ${out}`, '', formatTable(['field', 'value'], Object.entries(summary).map(([k, v]) => [k, typeof v === 'object' ? JSON.stringify(v) : String(v)]))].join('\n'),
    );
  });
}
