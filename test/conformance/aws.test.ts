/** The conformance suite on the aws provider, on a moto server it starts. */
import { runConformance } from '../../src/testkit/index.ts';
import { awsTarget } from './targets/aws.ts';

runConformance(await awsTarget());
