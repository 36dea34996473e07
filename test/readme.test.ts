import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = join(import.meta.dirname, '..');
const marker = '<!-- readme-example:';

/** The example block of the README and the output it says it prints. */
async function readmeExample(): Promise<{ code: string; output: string }> {
  const readme = await readFile(join(root, 'README.md'), 'utf8');
  const start = readme.indexOf(marker);
  const blocks = [...readme.slice(start).matchAll(/```(\w*)\n([\s\S]*?)```/g)];
  return { code: blocks[0]![2]!, output: blocks[1]![2]! };
}

const cleanup: string[] = [];

afterAll(async () => {
  await Promise.all(
    cleanup.map((d) => rm(d, { recursive: true, force: true })),
  );
});

describe('the README example', () => {
  it('runs as written on the local provider and prints what the README says', async () => {
    const { code, output } = await readmeExample();
    // Inside the package, so that `import ... from 'switchyard'` resolves
    // to this package itself.
    const folder = join(root, '.readme-example');
    await mkdir(folder, { recursive: true });
    const file = join(folder, `example-${process.pid}.ts`);
    await writeFile(file, code);
    const dataDir = await mkdtemp(join(tmpdir(), 'switchyard-readme-'));
    cleanup.push(dataDir, file);

    const { stdout } = await run(process.execPath, [file], {
      cwd: root,
      env: { ...process.env, SWITCHYARD_LOCAL_DATA_DIR: dataDir },
      timeout: 60_000,
    });

    expect(stdout).toBe(output);
  });
});
