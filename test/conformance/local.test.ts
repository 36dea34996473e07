/** The conformance suite on the local provider (SQLite). */
import { runConformance } from '../../src/testkit/index.ts';
import { localTarget } from './targets/local.ts';

runConformance(await localTarget());
