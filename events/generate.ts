/**
 * Writes the sample events of `samples.ts` into `events/kv-events/`:
 *
 *     node events/generate.ts && npx biome format --write events
 *
 * The test of the samples compares their JSON values with the generator's,
 * so the formatter's layout does not matter.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SAMPLE_FOLDER, sampleFiles, sampleText } from './samples.ts';

const folder = join(import.meta.dirname, SAMPLE_FOLDER);
await mkdir(folder, { recursive: true });
for (const [name, value] of Object.entries(sampleFiles())) {
  await writeFile(join(folder, name), sampleText(value));
  process.stdout.write(`wrote ${join(SAMPLE_FOLDER, name)}\n`);
}
