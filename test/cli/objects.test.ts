import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { CliFixture, jsonLines, lines } from './fixture.ts';

const cli = new CliFixture();
afterEach(() => cli.release());

describe('objects', () => {
  test('an object put from a file is listed, read back whole, and removed', async () => {
    const folder = await cli.folder();
    const file = join(folder, 'snapshot.bin');
    const content = Buffer.from(
      Array.from({ length: 3000 }, (_, i) => i % 256),
    );
    await writeFile(file, content);

    const put = await cli.run([
      'objects',
      'put',
      'snapshots',
      'day/1.bin',
      file,
      '--json',
    ]);
    const listed = await cli.run([
      'objects',
      'ls',
      'snapshots',
      'day/',
      '--json',
    ]);
    const got = await cli.run([
      'objects',
      'get',
      'snapshots',
      'day/1.bin',
      join(folder, 'copy.bin'),
    ]);
    const removed = await cli.run(['objects', 'rm', 'snapshots', 'day/1.bin']);
    const after = await cli.run(['objects', 'ls', 'snapshots', '--json']);

    expect(put.code).toBe(0);
    expect(jsonLines(put.stdout)).toEqual([
      expect.objectContaining({ name: 'day/1.bin', size: 3000 }),
    ]);
    expect(jsonLines(listed.stdout).map((info) => info.name)).toEqual([
      'day/1.bin',
    ]);
    expect(got.code).toBe(0);
    expect(await readFile(join(folder, 'copy.bin'))).toEqual(content);
    expect(removed.code).toBe(0);
    expect(after.stdout).toBe('');
  });

  test('an object put from stdin is written to stdout by get', async () => {
    await cli.run(
      [
        'objects',
        'put',
        'notes',
        'hello.txt',
        '-',
        '--content-type',
        'text/plain',
      ],
      {
        input: 'hello, world\n',
      },
    );

    const got = await cli.run(['objects', 'get', 'notes', 'hello.txt']);
    const listed = await cli.run(['objects', 'ls', 'notes', '--json']);

    expect(got.stdout).toBe('hello, world\n');
    expect(jsonLines(listed.stdout)).toEqual([
      expect.objectContaining({ contentType: 'text/plain' }),
    ]);
  });

  test('removing an object that does not exist fails in one line', async () => {
    await cli.run(['objects', 'put', 'notes', 'a.txt', '-'], { input: 'a' });

    const removed = await cli.run(['objects', 'rm', 'notes', 'b.txt']);

    expect(removed.code).toBe(1);
    expect(lines(removed.stderr)).toEqual([
      "switchyard: object 'b.txt' does not exist in bucket 'notes'",
    ]);
  });
});
