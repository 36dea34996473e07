/**
 * Writes the sample Lambda events of `samples.ts` into `events/aws/`:
 *
 *     node events/aws/generate.ts && npx biome format --write events/aws
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { sampleText } from '../samples.ts';
import { sampleEvents } from './samples.ts';

for (const [name, value] of Object.entries(sampleEvents())) {
  await writeFile(join(import.meta.dirname, name), sampleText(value));
  process.stdout.write(`wrote aws/${name}\n`);
}
