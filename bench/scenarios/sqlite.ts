/**
 * The raw driver, for scale: better-sqlite3 inserting 256-byte rows into
 * a WAL database with synchronous=NORMAL, one row per implicit
 * transaction and in explicit transactions of 500. The local provider
 * stores its messages the same way, so its rates read as a share of
 * these.
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { BenchConfig } from '../lib/config.ts';
import type { SqliteFigures } from '../lib/figures.ts';
import { payload, withDataDir } from '../lib/fixtures.ts';
import type { Scenario } from '../lib/scenario.ts';
import {
  grouped,
  perSecond,
  type Row,
  seconds,
  written,
} from '../lib/table.ts';
import { type Throughput, timed } from '../lib/timing.ts';

const PRAGMAS = { journal_mode: 'WAL', synchronous: 'NORMAL' };

export const sqliteScenario: Scenario = {
  name: 'sqlite',
  summary: 'raw better-sqlite3 inserts: autocommit and transactions of 500',
  async run(config, progress) {
    const { transactionSize } = config.sqlite;

    progress('autocommit inserts');
    const autocommit = await withDataDir(async (dir) =>
      insert(dir, config.sqlite.autocommit, 1, config),
    );
    progress(`transactions of ${transactionSize}`);
    const transactions = await withDataDir(async (dir) =>
      insert(dir, config.sqlite.transactions, transactionSize, config),
    );

    const figures: SqliteFigures = {
      pragmas: PRAGMAS,
      autocommit,
      transactions: { ...transactions, transactionSize },
    };
    const rows: Row[] = [
      row('WAL, synchronous=NORMAL: autocommit inserts', autocommit),
      row(`same, transactions of ${transactionSize} inserts`, transactions),
    ];
    return { results: { sqlite: figures }, rows };
  },
};

/**
 * Inserts `count` rows into a fresh database in `dir`, `perTransaction`
 * at a time (1: no explicit transaction), after an untimed warm-up.
 */
async function insert(
  dir: string,
  count: number,
  perTransaction: number,
  config: BenchConfig,
): Promise<Throughput> {
  const db = new Database(join(dir, 'raw.db'));
  try {
    for (const [name, value] of Object.entries(PRAGMAS)) {
      db.pragma(`${name} = ${value}`);
    }
    db.exec(
      'CREATE TABLE rows (seq INTEGER PRIMARY KEY AUTOINCREMENT, body BLOB NOT NULL)',
    );
    const statement = db.prepare('INSERT INTO rows (body) VALUES (?)');
    const many = db.transaction((first: number, size: number) => {
      for (let i = 0; i < size; i++) statement.run(payload(first + i));
    });
    const run = (first: number, total: number): void => {
      for (let done = 0; done < total; done += perTransaction) {
        const size = Math.min(perTransaction, total - done);
        if (perTransaction === 1) statement.run(payload(first + done));
        else many(first + done, size);
      }
    };

    run(0, config.warmup);
    return await timed(count, () => run(config.warmup, count));
  } finally {
    db.close();
  }
}

function row(measure: string, figure: Throughput): Row {
  return {
    scenario: 'sqlite',
    subject: 'better-sqlite3',
    measure,
    result: perSecond(figure.perSecond),
    detail: `${grouped(figure.messages)} rows in ${seconds(figure.seconds)}${written(figure)}`,
  };
}
