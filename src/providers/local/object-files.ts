/**
 * The files that hold object contents. Each write goes to a temporary
 * file of its own, is flushed to disk, then renamed to a name no other
 * write uses (the new etag); only then does the object's row point at it,
 * so a write interrupted at any point leaves the previous content whole.
 */
import { randomBytes } from 'node:crypto';
import { open, readdir, rename, rm, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';

/** Objects up to this size are read whole instead of streamed, in bytes. */
const READ_WHOLE_BYTES = 64 * 1024;

/** Prefix of the temporary files of writes in progress. */
const TEMPORARY = '.tmp-';

/** A new etag, which is also the name of the file of the content. */
export function newEtag(): string {
  return `${Date.now().toString(36)}-${randomBytes(12).toString('hex')}`;
}

/**
 * Writes `body` to the file `name` in `dir` through a temporary file, and
 * returns its size. With `durable`, the folder is flushed too, so that the
 * rename survives a power loss.
 */
export async function writeContent(
  dir: string,
  name: string,
  body: Uint8Array | AsyncIterable<Uint8Array>,
  durable: boolean,
): Promise<number> {
  const temporary = join(dir, `${TEMPORARY}${name}`);
  const handle = await open(temporary, 'wx');
  let size = 0;
  try {
    if (body instanceof Uint8Array) {
      await handle.writeFile(body);
      size = body.byteLength;
    } else {
      for await (const chunk of body) {
        const bytes =
          typeof chunk === 'string'
            ? Buffer.from(chunk)
            : (chunk as Uint8Array);
        let written = 0;
        while (written < bytes.byteLength) {
          const result = await handle.write(bytes, written);
          written += result.bytesWritten;
        }
        size += bytes.byteLength;
      }
    }
    await handle.sync();
  } catch (error) {
    await handle.close().catch(() => {});
    await unlink(temporary).catch(() => {});
    throw error;
  }
  await handle.close();

  await rename(temporary, join(dir, name));
  if (durable) await syncFolder(dir);
  return size;
}

/**
 * Opens the content file `name` of `dir`, or returns undefined if it is
 * gone (replaced by a newer write since its row was read). Small files are
 * read whole; larger ones are streamed from the open file, which stays
 * readable even if a newer write removes it meanwhile.
 */
export async function readContent(
  dir: string,
  name: string,
  size: number,
): Promise<AsyncIterable<Uint8Array> | undefined> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(join(dir, name), 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }

  if (size > READ_WHOLE_BYTES) {
    return handle.createReadStream({ highWaterMark: READ_WHOLE_BYTES });
  }
  try {
    const bytes = await handle.readFile();
    return once(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length));
  } finally {
    await handle.close();
  }
}

/** Removes a content file; a file already gone is not an error. */
export async function removeContent(dir: string, name: string): Promise<void> {
  await unlink(join(dir, name)).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'ENOENT') throw error;
  });
}

/** Removes a bucket's folder with everything in it. */
export async function removeFolder(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

/**
 * Removes files of `dir` older than `olderThanMs` that hold no object:
 * the leftovers of writes interrupted by a crash.
 */
export async function removeLeftovers(
  dir: string,
  inUse: (name: string) => boolean,
  olderThanMs: number,
): Promise<void> {
  const before = Date.now() - olderThanMs;
  const names = await readdir(dir).catch(() => [] as string[]);
  for (const name of names) {
    const content = name.startsWith(TEMPORARY)
      ? name.slice(TEMPORARY.length)
      : name;
    if (!name.startsWith(TEMPORARY) && inUse(content)) continue;
    const info = await stat(join(dir, name)).catch(() => undefined);
    if (info !== undefined && info.mtimeMs < before) {
      await removeContent(dir, name).catch(() => {});
    }
  }
}

async function syncFolder(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function* once(bytes: Uint8Array): AsyncIterable<Uint8Array> {
  yield bytes;
}
