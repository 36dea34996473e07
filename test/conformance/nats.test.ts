/** The conformance suite on the nats provider, on a nats-server it starts. */
import { runConformance } from '../../src/testkit/index.ts';
import { natsTarget } from './targets/nats.ts';

runConformance(await natsTarget());
