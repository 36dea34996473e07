/**
 * `ScheduleRule`: the EventBridge rule that runs a schedule function,
 * with the dead-letter queue of its target and an alarm on it.
 */
import { Annotations, Duration } from 'aws-cdk-lib';
import type { Alarm } from 'aws-cdk-lib/aws-cloudwatch';
import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { deadLetterAlarm } from './dead-letter-alarm.ts';
import { ruleName, scheduleDeadLetterQueueName } from './names.ts';

/** The shortest rate of an EventBridge rule. */
const MINUTE_MS = 60_000;

/** The oldest event EventBridge keeps retrying. */
const MAX_EVENT_AGE = Duration.hours(24);

/** Props of {@link ScheduleRule}. */
export interface ScheduleRuleProps {
  /** Prefix of every resource name of the deployment. */
  readonly prefix: string;

  /** The pipeline's name, part of the rule's name. */
  readonly pipeline: string;

  /** The schedule function's name. */
  readonly name: string;

  /** The function's period, as its `every` trigger declares it. */
  readonly everyMs: number;

  /** The Lambda function the rule runs. */
  readonly target: IFunction;

  /**
   * Times EventBridge invokes the function again after a failed run.
   *
   * @default 2
   */
  readonly retryAttempts?: number;
}

/**
 * Runs the function at the rate of its period. EventBridge rates are
 * whole minutes, so the period is rounded up to whole minutes, one at
 * least, with a synth-time warning when that changes it.
 *
 * A failed run is retried `retryAttempts` times while it is younger
 * than one period (the next run supersedes it), then its event goes to
 * the dead-letter queue, which is encrypted with SQS-managed keys,
 * refuses requests without TLS, and alarms as soon as it holds one.
 */
export class ScheduleRule extends Construct {
  readonly rule: Rule;

  /** The rate the rule runs at. */
  readonly rate: Duration;

  /** Where the events of runs that failed every retry go. */
  readonly deadLetterQueue: Queue;

  /** In alarm while the dead-letter queue holds a visible event. */
  readonly deadLetterAlarm: Alarm;

  constructor(scope: Construct, id: string, props: ScheduleRuleProps) {
    super(scope, id);
    const { prefix, pipeline, name, everyMs } = props;
    const minutes = Math.max(1, Math.ceil(everyMs / MINUTE_MS));
    this.rate = Duration.minutes(minutes);
    if (minutes * MINUTE_MS !== everyMs) {
      Annotations.of(this).addWarningV2(
        '@switchyard/infra:scheduleRounded',
        `function ${name} runs every ${minutes} min on EventBridge, not every ${everyMs} ms: a rule's rate is a whole number of minutes, one at least`,
      );
    }
    const dlqName = scheduleDeadLetterQueueName(prefix, pipeline, name);

    this.deadLetterQueue = new Queue(this, 'DeadLetterQueue', {
      queueName: dlqName,
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });

    this.rule = new Rule(this, 'Rule', {
      ruleName: ruleName(prefix, pipeline, name),
      description: `Runs function ${name} of pipeline ${pipeline} every ${minutes} min`,
      schedule: Schedule.rate(this.rate),
      targets: [
        new LambdaFunction(props.target, {
          deadLetterQueue: this.deadLetterQueue,
          retryAttempts: props.retryAttempts ?? 2,
          maxEventAge: shorter(this.rate, MAX_EVENT_AGE),
        }),
      ],
    });

    this.deadLetterAlarm = deadLetterAlarm(
      this,
      this.deadLetterQueue,
      `Scheduled runs of function ${name} that failed every retry are in ${dlqName}`,
    );
  }
}

function shorter(a: Duration, b: Duration): Duration {
  return a.toMilliseconds() <= b.toMilliseconds() ? a : b;
}
