/** Options and helpers that several commands share. */
import type { OptionSpec } from '../command.ts';

/** The codecs a command can be told to use. */
export const CODECS = ['json', 'msgpack', 'raw'] as const;

/** A codec name. */
export type CodecName = (typeof CODECS)[number];

/** The `--codec` option. */
export const CODEC_OPTION: OptionSpec = {
  type: 'string',
  value: 'json|msgpack|raw',
  description: 'codec of the data (default json)',
};
