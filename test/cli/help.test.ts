import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { CliFixture } from './fixture.ts';

const cli = new CliFixture();
afterEach(() => cli.release());

describe('help and version', () => {
  test('--help lists every command and the global options', async () => {
    const result = await cli.run(['--help']);

    expect(result.code).toBe(0);
    for (const command of [
      'dev',
      'publish <channel> [data]',
      'consume <channel>',
      'kv watch <bucket> [prefix]',
      'objects put <bucket> <name> <file|->',
      'channels purge <channel>',
      'dlq replay <channel>',
      'help [command]',
    ]) {
      expect(result.stdout).toContain(`  ${command}  `);
    }
    expect(result.stdout).toContain('--provider NAME');
  });

  test('help of a command shows its usage and options', async () => {
    const result = await cli.run(['help', 'consume']);

    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(
      /^Usage: switchyard consume <channel> \[options\]/,
    );
    expect(result.stdout).toContain('--group GROUP');
    expect(result.stdout).toContain('--max-attempts N');
  });

  test('--help after a command shows that command', async () => {
    const result = await cli.run(['kv', 'put', '--help']);

    expect(result.stdout).toMatch(
      /^Usage: switchyard kv put <bucket> <key> <value>/,
    );
  });

  test('help of a group lists its commands', async () => {
    const result = await cli.run(['help', 'dlq']);

    expect(result.stdout).toContain('dlq ls <channel>');
    expect(result.stdout).toContain('dlq purge <channel>');
  });

  test('--version prints the version of the package', async () => {
    const manifest = JSON.parse(
      await readFile(join(import.meta.dirname, '../../package.json'), 'utf8'),
    ) as { version: string };

    const result = await cli.run(['--version']);

    expect(result.stdout).toBe(`${manifest.version}\n`);
  });

  test('help of an unknown command is a usage error', async () => {
    const result = await cli.run(['help', 'frobnicate']);

    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      "switchyard: unknown command 'frobnicate' (run switchyard --help for the list)\n",
    );
  });
});
