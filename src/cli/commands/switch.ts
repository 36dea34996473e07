/** `switchyard switch`: moves a running `switchyard dev` to another provider. */
import { defineCommand } from '../command.ts';
import { CommandError, UsageError } from '../errors.ts';
import { DEFAULT_CONTROL_PATH, sendControl } from './dev-control.ts';

/** `switch <provider>`. */
export const switchCommand = defineCommand({
  name: 'switch',
  args: '<provider>',
  summary: "Move a running switchyard dev's channels to another provider",
  details: [
    'Asks the switchyard dev listening on the control socket to switch its',
    'channels to <provider>, with the options the configuration gives that',
    'provider (or --options). Publishes go on; consumers drain the old',
    'transport, then go on with the new one. Prints what the switch did once',
    'it is done. Buckets and idempotency records stay where they are.',
  ].join('\n'),
  options: {
    options: {
      type: 'string',
      value: 'JSON',
      description: "the provider's options as a JSON object",
    },
    control: {
      type: 'string',
      value: 'PATH',
      description: `the dev run's control socket (default ${DEFAULT_CONTROL_PATH})`,
    },
  },
  async run({ args, options, output }) {
    const [provider] = args as [string];
    const given = options.string('options');
    let providerOptions: Record<string, unknown> | undefined;
    if (given !== undefined) {
      try {
        providerOptions = JSON.parse(given) as Record<string, unknown>;
      } catch {
        throw new UsageError(`--options must be a JSON object, got ${given}`);
      }
      if (typeof providerOptions !== 'object' || providerOptions === null) {
        throw new UsageError(`--options must be a JSON object, got ${given}`);
      }
    }

    const reply = await sendControl(
      options.string('control') ?? DEFAULT_CONTROL_PATH,
      {
        switchTo: {
          provider,
          ...(providerOptions !== undefined && { options: providerOptions }),
        },
      },
    );
    if (!reply.ok) {
      throw new CommandError(
        `could not switch to ${provider}: ${reply.error.message}`,
      );
    }
    const { report } = reply;
    if (output.json) {
      output.record({ ...report });
      return;
    }
    output.table(
      ['FROM', 'TO', 'PREPARE MS', 'DRAIN MS', 'DRAINED', 'CONSUMERS'],
      [
        [
          report.from,
          report.to,
          String(report.prepareMs),
          String(report.drainMs),
          report.drained ? 'yes' : `no (left: ${JSON.stringify(report.left)})`,
          String(report.consumers),
        ],
      ],
      'nothing switched',
    );
  },
});
