// English command words spoken by SVOX Pico's German, Spanish, French and Italian voices: speakers with
// an accent, each voice recorded from a real person whose timbre none of the other synthesizers has.
// Core file (no node: imports).
//
// Each voice reads its own language, so a word is written for it either in that language's spelling
// ("dáun" for a Spanish reader) or as X-SAMPA phonemes in Pico's markup, whichever a listener that has
// heard real people took for the word. The listeners: three TC-ResNet8 models trained with real Speech
// Commands recordings (the shipped kws-cnn and two of its retrainings), each scoring six renderings
// (pitch 60-130%, speed 80-140%) of every candidate; a spelling is kept when they heard the word in at
// least 11 of 18 (docs/accuracy.md, "Accented voices"). Words no candidate passed are left out for that
// voice: "go" for all four (heard as "no" or as no command), and every word outside the ten commands,
// which those listeners cannot judge. A clip of a word said wrongly would teach the word wrongly; a word
// left out only has fewer speakers.

/** Pico's four voices for other languages, all women (their own pitch in PICO_F0, speakers.ts). */
export const ACCENTED_VOICES = ['de-DE', 'es-ES', 'fr-FR', 'it-IT'] as const;
export type AccentedVoice = (typeof ACCENTED_VOICES)[number];

const xsampa = (phonemes: string): string => `<phoneme alphabet="xsampa" ph="${phonemes}"/>`;

/** What each voice is given to say for each word it says (Pico markup). */
export const ACCENTED_WORDS: Readonly<Record<AccentedVoice, Readonly<Record<string, string>>>> = {
  'de-DE': {
    yes: xsampa('jEs'), no: 'no', up: xsampa('ap'), down: 'daun', left: xsampa('lEft'),
    right: 'reit', on: xsampa('On'), off: xsampa('Of'), stop: xsampa('stOp'),
  },
  'es-ES': {
    yes: 'iés', no: 'nóu', up: 'ap', down: 'dáun', left: 'léft',
    right: 'ráit', on: 'on', off: 'of', stop: 'stóp',
  },
  'fr-FR': {
    yes: 'yèsse', no: 'nôou', up: 'ape', down: xsampa('daun'), left: 'lèfte',
    right: 'raïte', on: 'onne', off: 'offe', stop: 'stope',
  },
  'it-IT': {
    yes: 'ies', no: xsampa('nOu'), up: 'ap', down: 'daun', left: xsampa('lEft'),
    right: 'ràit', on: 'ònn', off: 'of', stop: 'stòp',
  },
};

export function isAccentedVoice(voice: string): voice is AccentedVoice {
  return (ACCENTED_VOICES as readonly string[]).includes(voice);
}

/** The words of `words` a speaker of `voice` says: all of them, unless the voice is accented. */
export function wordsSaidBy(voice: string, words: readonly string[]): string[] {
  return isAccentedVoice(voice) ? words.filter((w) => w in ACCENTED_WORDS[voice]) : [...words];
}
