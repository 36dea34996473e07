/** The conformance suite on the memory provider declaring every optional feature unsupported, which runs the refusal cases. */
import { runConformance } from '../../src/testkit/index.ts';
import { memoryMinimalTarget } from './targets/memory-minimal.ts';

runConformance(await memoryMinimalTarget());
