import { afterEach, describe, expect, test } from 'vitest';
import { CliFixture, jsonLines, lines } from './fixture.ts';

const cli = new CliFixture();
afterEach(() => cli.release());

describe('kv', () => {
  test('put then get returns the value with its revision', async () => {
    const put = await cli.run([
      'kv',
      'put',
      'settings',
      'mode',
      '{"fast":true}',
      '--json',
    ]);

    const got = await cli.run(['kv', 'get', 'settings', 'mode', '--json']);

    expect(put.code).toBe(0);
    const [{ revision }] = jsonLines(put.stdout) as [{ revision: string }];
    expect(jsonLines(got.stdout)).toEqual([
      expect.objectContaining({
        bucket: 'settings',
        key: 'mode',
        value: { fast: true },
        revision,
      }),
    ]);
  });

  test('a put with a stale revision is refused as a conflict and changes nothing', async () => {
    const first = await cli.run([
      'kv',
      'put',
      'settings',
      'mode',
      '"a"',
      '--json',
    ]);
    const [{ revision }] = jsonLines(first.stdout) as [{ revision: string }];
    await cli.run([
      'kv',
      'put',
      'settings',
      'mode',
      '"b"',
      '--revision',
      revision,
    ]);

    const stale = await cli.run([
      'kv',
      'put',
      'settings',
      'mode',
      '"c"',
      '--revision',
      revision,
    ]);
    const got = await cli.run(['kv', 'get', 'settings', 'mode', '--json']);

    expect(stale.code).toBe(1);
    expect(lines(stale.stderr)).toEqual([
      expect.stringMatching(
        /^switchyard: key 'mode' in bucket 'settings' is at revision \S+, not \S+$/,
      ),
    ]);
    expect(jsonLines(got.stdout)[0]).toMatchObject({ value: 'b' });
  });

  test('put --if-absent refuses a key that exists', async () => {
    await cli.run(['kv', 'put', 'settings', 'mode', '"a"']);

    const again = await cli.run([
      'kv',
      'put',
      'settings',
      'mode',
      '"b"',
      '--if-absent',
    ]);

    expect(again.code).toBe(1);
    expect(again.stderr).toContain(
      "key 'mode' already exists in bucket 'settings'",
    );
  });

  test('del with the current revision deletes the key; a stale one is a conflict', async () => {
    const put = await cli.run([
      'kv',
      'put',
      'settings',
      'mode',
      '"a"',
      '--json',
    ]);
    const [{ revision }] = jsonLines(put.stdout) as [{ revision: string }];
    await cli.run(['kv', 'put', 'settings', 'mode', '"b"']);

    const stale = await cli.run([
      'kv',
      'del',
      'settings',
      'mode',
      '--revision',
      revision,
    ]);
    const deleted = await cli.run(['kv', 'del', 'settings', 'mode']);
    const got = await cli.run(['kv', 'get', 'settings', 'mode']);

    expect(stale.code).toBe(1);
    expect(deleted.code).toBe(0);
    expect(got.code).toBe(1);
    expect(got.stderr).toBe(
      "switchyard: key 'mode' does not exist in bucket 'settings'\n",
    );
  });

  test('ls lists the keys under a prefix', async () => {
    await cli.run(['kv', 'put', 'settings', 'worker.1', '1']);
    await cli.run(['kv', 'put', 'settings', 'worker.2', '2']);
    await cli.run(['kv', 'put', 'settings', 'mode', '"a"']);

    const listed = await cli.run(['kv', 'ls', 'settings', 'worker.', '--json']);

    expect(jsonLines(listed.stdout).map((entry) => entry.key)).toEqual([
      'worker.1',
      'worker.2',
    ]);
  });

  test('watch prints the entries, then each put and delete, until Ctrl-C', async () => {
    await cli.run(['kv', 'put', 'settings', 'mode', '"a"']);
    const watch = await cli.start(['kv', 'watch', 'settings', '--json']);
    await watch.waitForOutput('"snapshot"');

    await cli.run(['kv', 'put', 'settings', 'mode', '"b"']);
    await watch.waitForOutput('"b"');
    await cli.run(['kv', 'del', 'settings', 'mode']);
    await watch.waitForOutput('"delete"');
    const result = await watch.stop('SIGINT');

    expect(result.code).toBe(0);
    expect(jsonLines(result.stdout)).toEqual([
      expect.objectContaining({
        type: 'snapshot',
        entries: [expect.objectContaining({ key: 'mode', value: 'a' })],
      }),
      expect.objectContaining({
        type: 'put',
        entry: expect.objectContaining({ key: 'mode', value: 'b' }),
      }),
      expect.objectContaining({ type: 'delete', key: 'mode' }),
    ]);
  });
});
