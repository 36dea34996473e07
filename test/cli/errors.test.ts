import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { CliFixture, lines } from './fixture.ts';

const cli = new CliFixture();
afterEach(() => cli.release());

/** A bad command line, what it must say, and how it must exit. */
interface BadInput {
  case: string;
  args: string[];
  says: RegExp;
  code: 1 | 2;
  setup?: () => Promise<void>;
  input?: string;
}

async function createOrders(): Promise<void> {
  await cli.run(['channels', 'create', 'orders', '--group', 'billing']);
}

async function writeInFolder(name: string, text: string): Promise<void> {
  await writeFile(join(await cli.folder(), name), text);
}

const cases: BadInput[] = [
  {
    case: 'an unknown command',
    args: ['frobnicate'],
    says: /^switchyard: unknown command 'frobnicate'/,
    code: 2,
  },
  {
    case: 'an unknown option without a command',
    args: ['--colour'],
    says: /^switchyard: unknown option --colour \(run switchyard --help\)$/,
    code: 2,
  },
  {
    case: 'an unknown subcommand',
    args: ['kv', 'frob', 'settings'],
    says: /^switchyard: unknown command 'kv frob': kv commands are get, put/,
    code: 2,
  },
  {
    case: 'an unknown option',
    args: ['channels', 'ls', '--colour'],
    says: /^switchyard: unknown option --colour for channels ls/,
    code: 2,
  },
  {
    case: 'an option without its value',
    args: ['consume', 'orders', '--group'],
    says: /^switchyard: option --group needs a value/,
    code: 2,
  },
  {
    case: 'a missing argument',
    args: ['kv', 'get', 'settings'],
    says: /^switchyard: missing <key> \(usage: switchyard kv get <bucket> <key>\)$/,
    code: 2,
  },
  {
    case: 'an extra argument',
    args: ['channels', 'stats', 'orders', 'payments'],
    says: /^switchyard: too many arguments: "payments" is unexpected/,
    code: 2,
  },
  {
    case: 'a count that is not a number',
    args: ['consume', 'orders', '--group', 'billing', '--count', 'many'],
    says: /^switchyard: --count must be an integer of at least 1, got "many"$/,
    code: 2,
  },
  {
    case: 'an unknown codec',
    args: ['publish', 'orders', '1', '--codec', 'xml'],
    says: /^switchyard: --codec must be one of json, msgpack, raw, got "xml"$/,
    code: 2,
  },
  {
    case: 'publishing on an unknown channel',
    args: ['publish', 'nope', '{"a":1}'],
    says: /^switchyard: channel 'nope' does not exist$/,
    code: 1,
  },
  {
    case: 'consuming an unknown channel',
    args: ['consume', 'nope', '--group', 'billing'],
    says: /^switchyard: channel 'nope' does not exist$/,
    code: 1,
  },
  {
    case: 'the stats of an unknown channel',
    args: ['channels', 'stats', 'nope'],
    says: /^switchyard: channel 'nope' does not exist$/,
    code: 1,
  },
  {
    case: 'the dead letters of an unknown channel',
    args: ['dlq', 'ls', 'nope'],
    says: /^switchyard: channel 'nope' does not exist$/,
    code: 1,
  },
  {
    case: 'an unknown key-value bucket',
    args: ['kv', 'get', 'nope', 'mode'],
    says: /^switchyard: key-value bucket 'nope' does not exist$/,
    code: 1,
  },
  {
    case: 'an unknown object bucket',
    args: ['objects', 'ls', 'nope'],
    says: /^switchyard: object bucket 'nope' does not exist$/,
    code: 1,
  },
  {
    case: 'an invalid channel name',
    args: ['channels', 'stats', 'Bad_Name'],
    says: /^switchyard: .*Bad_Name/,
    code: 1,
  },
  {
    case: 'an unknown provider',
    args: ['channels', 'ls', '--provider', 'nope'],
    says: /^switchyard: provider is "nope", which is not a known provider \(known: .*local/,
    code: 1,
  },
  {
    case: 'data that is not JSON',
    args: ['publish', 'orders', '{"sku":}'],
    setup: createOrders,
    says: /^switchyard: the data argument is not valid JSON: .* at line 1, column 8$/,
    code: 2,
  },
  {
    case: 'text that is not quoted',
    args: ['publish', 'orders', 'apple'],
    setup: createOrders,
    says: /^switchyard: the data argument is not valid JSON: .*text must be quoted/,
    code: 2,
  },
  {
    case: 'a file that is not JSON',
    args: ['publish', 'orders', '--file', 'orders.json'],
    setup: async () => {
      await createOrders();
      await writeInFolder('orders.json', '[\n  {"n": 1},\n  {"n": 2,}\n]\n');
    },
    says: /^switchyard: orders\.json is not valid JSON: .* at line 3, column 11$/,
    code: 2,
  },
  {
    case: 'a line of stdin that is not JSON',
    args: ['publish', 'orders', '-'],
    setup: createOrders,
    input: '{"n":1}\n{"n":\n',
    says: /^switchyard: stdin line 2 is not valid JSON: it ends too early$/,
    code: 2,
  },
  {
    case: 'a missing data file',
    args: ['publish', 'orders', '--file', 'missing.json'],
    setup: createOrders,
    says: /^switchyard: cannot read missing\.json: no such file$/,
    code: 1,
  },
  {
    case: 'a configuration file with a bad field',
    args: ['channels', 'ls', '--config', 'bad.json'],
    setup: () =>
      writeInFolder('bad.json', '{"providers":{"local":{"pollIntervalMs":0}}}'),
    says: /^switchyard: .*pollIntervalMs must be an integer from 1 to 60000, got 0$/,
    code: 1,
  },
  {
    case: 'a configuration file with an unknown setting',
    args: ['channels', 'ls', '--config', 'bad.json'],
    setup: () => writeInFolder('bad.json', '{"provder":"local"}'),
    says: /^switchyard: .*bad\.json: provder is not a known setting/,
    code: 1,
  },
  {
    case: 'a configuration file that does not exist',
    args: ['channels', 'ls', '--config', 'absent.json'],
    says: /^switchyard: configuration file .*absent\.json does not exist$/,
    code: 1,
  },
  {
    case: 'a pipeline module that does not exist',
    args: ['dev', '--pipeline', 'missing.ts', '--until-idle'],
    says: /^switchyard: cannot load pipeline missing\.ts: no such file$/,
    code: 1,
  },
];

describe('a bad command line', () => {
  test.each(cases)(
    '$case fails with one line on stderr and no stack trace',
    async (bad) => {
      await bad.setup?.();

      const result = await cli.run(
        bad.args,
        bad.input === undefined ? {} : { input: bad.input },
      );

      expect(lines(result.stderr)).toEqual([expect.stringMatching(bad.says)]);
      expect(result.stderr).not.toMatch(/\n\s+at /);
      expect(result.code).toBe(bad.code);
    },
  );

  test('--verbose adds debug logs and the stack trace to the one-line reason', async () => {
    const result = await cli.run(['channels', 'stats', 'nope', '--verbose']);

    expect(result.code).toBe(1);
    expect(lines(result.stderr)).toContain(
      "switchyard: channel 'nope' does not exist",
    );
    expect(result.stderr).toMatch(
      /NotFoundError: channel 'nope' does not exist\n\s+at /,
    );
  });

  test('a publish of several messages that fails in part says how many failed', async () => {
    await createOrders();

    const result = await cli.run(
      ['publish', 'orders', '-', '--attr', 'Bad=1'],
      {
        input: '1\n2\n',
      },
    );

    expect(result.code).toBe(1);
    expect(lines(result.stderr)).toEqual([
      expect.stringMatching(
        /^switchyard: 2 of 2 messages were not published: .*attribute name "Bad"/,
      ),
    ]);
  });
});
