// The 35 keywords of Speech Commands v2, in sorted order: a class index means the same word in every
// data set, model file and report. Core file (no node: imports).
export const WORDS: readonly string[] = Object.freeze([
  'backward', 'bed', 'bird', 'cat', 'dog', 'down', 'eight', 'five', 'follow', 'forward',
  'four', 'go', 'happy', 'house', 'learn', 'left', 'marvin', 'nine', 'no', 'off',
  'on', 'one', 'right', 'seven', 'sheila', 'six', 'stop', 'three', 'tree', 'two',
  'up', 'visual', 'wow', 'yes', 'zero',
]);

/** The ten command words of the usual keyword-spotting task on Speech Commands. */
export const COMMAND_WORDS: readonly string[] = Object.freeze(['yes', 'no', 'up', 'down', 'left', 'right', 'on', 'off', 'stop', 'go']);
