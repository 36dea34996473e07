/** Every command of the program, in the order the help lists them. */
import type { Command } from '../command.ts';
import {
  channelsCreateCommand,
  channelsLsCommand,
  channelsPurgeCommand,
  channelsRmCommand,
  channelsStatsCommand,
} from './channels.ts';
import { consumeCommand } from './consume.ts';
import { devCommand } from './dev.ts';
import { dlqLsCommand, dlqPurgeCommand, dlqReplayCommand } from './dlq.ts';
import {
  kvDelCommand,
  kvGetCommand,
  kvLsCommand,
  kvPutCommand,
  kvWatchCommand,
} from './kv.ts';
import {
  objectsGetCommand,
  objectsLsCommand,
  objectsPutCommand,
  objectsRmCommand,
} from './objects.ts';
import { publishCommand } from './publish.ts';
import { switchCommand } from './switch.ts';

/** The commands of `switchyard`. */
export const COMMANDS: readonly Command[] = [
  devCommand,
  switchCommand,
  publishCommand,
  consumeCommand,
  kvGetCommand,
  kvPutCommand,
  kvDelCommand,
  kvLsCommand,
  kvWatchCommand,
  objectsPutCommand,
  objectsGetCommand,
  objectsLsCommand,
  objectsRmCommand,
  channelsLsCommand,
  channelsCreateCommand,
  channelsStatsCommand,
  channelsPurgeCommand,
  channelsRmCommand,
  dlqLsCommand,
  dlqReplayCommand,
  dlqPurgeCommand,
];
