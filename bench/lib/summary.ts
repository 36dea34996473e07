/** The text printed at the end of a run: the table, ratios and goals. */
import type { ResultsFile } from './report.ts';
import { formatTable, grouped, perSecond, type Row } from './table.ts';

/** Every line of the run's summary. */
export function summaryLines(
  file: ResultsFile,
  rows: readonly Row[],
): string[] {
  const { machine, ratios, goals, natsGoals, failures } = file;
  const lines = [
    `Switchyard bench, ${file.date}, ${machine.cpus} x ${machine.cpuModel}, node ${machine.node}${file.quick ? ', --quick' : ''}`,
    `load average ${file.load.start[0]} at the start, ${file.load.end[0]} at the end${busy(file) ? ' (the machine was busy with other work: figures are low and noisy)' : ''}`,
    '256-byte messages; each scenario in a fresh process; publishes and acknowledgements durable.',
    '',
    formatTable(rows),
  ];

  if (ratios.length > 0) {
    const width = Math.max(...ratios.map((r) => r.name.length));
    lines.push('', 'ratios');
    for (const ratio of ratios) {
      lines.push(
        `  ${ratio.name.padEnd(width)}  ${ratio.value.toFixed(2).padStart(5)}  (${grouped(ratio.numerator)} / ${grouped(ratio.denominator)})`,
      );
    }
  }
  if (goals.length > 0) {
    const width = Math.max(...goals.map((g) => g.name.length));
    lines.push(
      '',
      `goal of the local provider: ${perSecond(goals[0]!.target)}`,
    );
    for (const goal of goals) {
      lines.push(
        `  ${goal.name.padEnd(width)}  ${perSecond(goal.perSecond).padStart(14)}  ${goal.met ? 'met' : 'MISSED'}`,
      );
    }
  }
  if (natsGoals.length > 0) {
    const width = Math.max(...natsGoals.map((g) => g.name.length));
    lines.push(
      '',
      `goal of the nats provider: ${natsGoals[0]!.target} x the raw client`,
    );
    for (const goal of natsGoals) {
      lines.push(
        `  ${goal.name.padEnd(width)}  ${goal.ratio.toFixed(2).padStart(5)} x raw  ${goal.met ? 'met' : 'MISSED'}`,
      );
    }
  }
  for (const failure of failures) {
    lines.push(
      '',
      `${failure.scenario} FAILED: ${failure.error.split('\n')[0]}`,
    );
  }

  return lines;
}

/**
 * Whether other work kept the machine busy when the run started (the
 * run itself keeps about one core busy, so the load at the end says
 * little).
 */
function busy(file: ResultsFile): boolean {
  return (file.load.start[0] ?? 0) >= file.machine.cpus * 0.75;
}
