// Runs the conformance suite on the providers named in
// SWITCHYARD_PROVIDERS (comma-separated; default all of them), one test
// file per provider: SWITCHYARD_PROVIDERS=local,nats npm run conformance
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';

const folder = 'test/conformance';
const known = readdirSync(folder)
  .filter((file) => file.endsWith('.test.ts'))
  .map((file) => file.slice(0, -'.test.ts'.length))
  .sort();
const asked = (process.env.SWITCHYARD_PROVIDERS ?? known.join(','))
  .split(',')
  .map((name) => name.trim())
  .filter((name) => name !== '');
const unknown = asked.filter((name) => !known.includes(name));
if (asked.length === 0 || unknown.length > 0) {
  console.error(
    `SWITCHYARD_PROVIDERS names ${asked.length === 0 ? 'no provider' : `unknown providers: ${unknown.join(', ')}`} (known: ${known.join(', ')})`,
  );
  process.exit(2);
}
const files = asked.map((name) => `${folder}/${name}.test.ts`);
if (!files.every((file) => existsSync(file))) process.exit(2);
const run = spawnSync('vitest', ['run', ...files], { stdio: 'inherit' });
process.exit(run.status ?? 1);
