#!/usr/bin/env node
/**
 * The `switchyard` command. Run `switchyard --help` for its commands.
 */
import { main } from './main.ts';

process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  // A reader that went away (`switchyard consume ... | head`) is no failure.
  if (error.code === 'EPIPE') process.exit();
  throw error;
});

process.exitCode = await main(process.argv.slice(2));
