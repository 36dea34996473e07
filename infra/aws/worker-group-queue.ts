/**
 * `WorkerGroupQueue`: the SQS queue of one worker group of a channel,
 * subscribed to the channel's topic, with its dead-letter queue and an
 * alarm on the dead letters.
 */
import { Duration } from 'aws-cdk-lib';
import type { Alarm } from 'aws-cdk-lib/aws-cloudwatch';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import { SqsSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { GroupResource } from '../../src/functions/resources.ts';
import { deadLetterAlarm } from './dead-letter-alarm.ts';
import { deadLetterQueueName, groupQueueName } from './names.ts';

/** Props of {@link WorkerGroupQueue}. */
export interface WorkerGroupQueueProps {
  /** Prefix of every resource name of the deployment. */
  readonly prefix: string;

  /** The channel's name. */
  readonly channel: string;

  /** Whether the channel is ordered: FIFO queues, then. */
  readonly ordered: boolean;

  /** The group, as `describePipeline` gives it. */
  readonly group: GroupResource;

  /** The channel's topic, which the queue subscribes to. */
  readonly topic: ITopic;

  /**
   * The run-time limit of the function the group feeds. The visibility
   * timeout is the longer of it and the group's lease, since Lambda
   * refuses a queue that would hand a message out again while a run
   * still holds it.
   *
   * @default - the group's lease
   */
  readonly functionTimeout?: Duration;

  /**
   * How long a dead letter is kept.
   *
   * @default Duration.days(14), the most SQS keeps a message
   */
  readonly deadLetterRetention?: Duration;
}

/**
 * A worker group's queue: every message of the channel reaches it through
 * a raw-delivery subscription (the SQS body is the message as published),
 * each is received by one member, and after the group's `maxAttempts`
 * receives it moves to the dead-letter queue. Both queues are encrypted
 * with SQS-managed keys and refuse requests without TLS. The alarm goes
 * off as soon as a dead letter is visible.
 */
export class WorkerGroupQueue extends Construct {
  /** The queue members receive from. */
  readonly queue: Queue;

  /** Where messages go after `maxAttempts` receives. */
  readonly deadLetterQueue: Queue;

  /** In alarm while the dead-letter queue holds a visible message. */
  readonly deadLetterAlarm: Alarm;

  constructor(scope: Construct, id: string, props: WorkerGroupQueueProps) {
    super(scope, id);
    const { prefix, channel, ordered, group } = props;
    const fifo = ordered ? { fifo: true } : {};
    const lease = Duration.millis(group.leaseMs);
    const visibility = longer(lease, props.functionTimeout ?? lease);
    const dlqName = deadLetterQueueName(prefix, channel, group.group, ordered);

    this.deadLetterQueue = new Queue(this, 'DeadLetterQueue', {
      queueName: dlqName,
      ...fifo,
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: props.deadLetterRetention ?? Duration.days(14),
    });

    this.queue = new Queue(this, 'Queue', {
      queueName: groupQueueName(prefix, channel, group.group, ordered),
      ...fifo,
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      visibilityTimeout: wholeSeconds(visibility),
      deadLetterQueue: {
        queue: this.deadLetterQueue,
        maxReceiveCount: group.maxAttempts,
      },
    });

    props.topic.addSubscription(
      new SqsSubscription(this.queue, { rawMessageDelivery: true }),
    );

    this.deadLetterAlarm = deadLetterAlarm(
      this,
      this.deadLetterQueue,
      `Messages of channel ${channel} that group ${group.group} failed ${group.maxAttempts} times are in ${dlqName}`,
    );
  }
}

function longer(a: Duration, b: Duration): Duration {
  return a.toMilliseconds() >= b.toMilliseconds() ? a : b;
}

/** SQS counts the visibility timeout in whole seconds. */
function wholeSeconds(duration: Duration): Duration {
  return Duration.seconds(Math.ceil(duration.toMilliseconds() / 1000));
}
