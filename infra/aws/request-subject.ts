/**
 * `RequestSubject`: the request queue and gather topic of one subject,
 * as the aws provider's requesters and servers use them.
 */
import { Duration } from 'aws-cdk-lib';
import { Alias } from 'aws-cdk-lib/aws-kms';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { REQUEST_QUEUE_ATTRIBUTES } from '../../src/providers/aws/request-server.ts';
import { gatherTopicName, requestQueueName } from './names.ts';

/** The AWS managed key of SNS, usable by every principal of the account. */
const SNS_MANAGED_KEY = 'alias/aws/sns';

/** Props of {@link RequestSubject}. */
export interface RequestSubjectProps {
  /** Prefix of every resource name of the deployment. */
  readonly prefix: string;

  /** The subject served. */
  readonly subject: string;
}

/**
 * A subject's request queue, which every server takes requests from,
 * and its gather topic, whose subscribers are the servers a gather
 * waits for. The queue has the attributes the provider creates it with
 * (SQS refuses to create an existing queue with others): it keeps a
 * request 60 seconds and hides a received one 5 seconds. A request that
 * is not answered in time expires, and its requester times out, so the
 * queue has no dead-letter queue. Both are encrypted with managed keys
 * and refuse requests without TLS.
 */
export class RequestSubject extends Construct {
  /** The queue requests to the subject are sent to. */
  readonly queue: Queue;

  /** The topic gathers on the subject are published to. */
  readonly gatherTopic: Topic;

  constructor(scope: Construct, id: string, props: RequestSubjectProps) {
    super(scope, id);
    const { prefix, subject } = props;
    const attributes = REQUEST_QUEUE_ATTRIBUTES;

    this.queue = new Queue(this, 'Queue', {
      queueName: requestQueueName(subject, { prefix }),
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.seconds(
        Number(attributes.MessageRetentionPeriod),
      ),
      visibilityTimeout: Duration.seconds(Number(attributes.VisibilityTimeout)),
    });

    this.gatherTopic = new Topic(this, 'GatherTopic', {
      topicName: gatherTopicName(subject, { prefix }),
      masterKey: Alias.fromAliasName(this, 'SnsKey', SNS_MANAGED_KEY),
      enforceSSL: true,
    });
  }
}
