/**
 * `ChannelTopic`: the SNS topic of a channel and a queue per worker
 * group subscribed to it.
 */
import type { Duration } from 'aws-cdk-lib';
import { Alias } from 'aws-cdk-lib/aws-kms';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import type { ChannelResource } from '../../src/functions/resources.ts';
import { topicName } from './names.ts';
import { WorkerGroupQueue } from './worker-group-queue.ts';

/** The AWS managed key of SNS, usable by every principal of the account. */
const SNS_MANAGED_KEY = 'alias/aws/sns';

/** Props of {@link ChannelTopic}. */
export interface ChannelTopicProps {
  /** Prefix of every resource name of the deployment. */
  readonly prefix: string;

  /** The channel, as `describePipeline` gives it. */
  readonly channel: ChannelResource;

  /**
   * Run-time limits of the functions the groups feed, by group name.
   *
   * @default - each group's lease
   */
  readonly functionTimeouts?: Readonly<Record<string, Duration>>;
}

/**
 * A channel on SNS and SQS: a topic that publishers send to (FIFO, with
 * content-based deduplication off, when the channel is ordered) and one
 * {@link WorkerGroupQueue} per worker group. The topic is encrypted with
 * the SNS managed key and refuses requests without TLS.
 *
 * Broadcast consumers have no queue here: the provider creates a queue
 * per live instance and removes it on close.
 */
export class ChannelTopic extends Construct {
  readonly topic: Topic;

  /** The queue of each worker group, by group name. */
  readonly groups: ReadonlyMap<string, WorkerGroupQueue>;

  constructor(scope: Construct, id: string, props: ChannelTopicProps) {
    super(scope, id);
    const { prefix, channel } = props;

    this.topic = new Topic(this, 'Topic', {
      topicName: topicName(prefix, channel.name, channel.ordered),
      ...(channel.ordered && { fifo: true }),
      masterKey: Alias.fromAliasName(this, 'SnsKey', SNS_MANAGED_KEY),
      enforceSSL: true,
    });

    const groups = new Map<string, WorkerGroupQueue>();
    for (const group of channel.groups) {
      const timeout = props.functionTimeouts?.[group.group];
      const queue = new WorkerGroupQueue(this, `Group-${group.group}`, {
        prefix,
        channel: channel.name,
        ordered: channel.ordered,
        group,
        topic: this.topic,
        ...(timeout !== undefined && { functionTimeout: timeout }),
      });
      groups.set(group.group, queue);
    }
    this.groups = groups;
  }
}
