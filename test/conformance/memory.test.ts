/** The conformance suite on the memory provider. */
import { runConformance } from '../../src/testkit/index.ts';
import { memoryTarget } from './targets/memory.ts';

runConformance(await memoryTarget());
