// Reading /metrics the way Prometheus does: every sample line as name, labels and value.
import type { FastifyInstance } from 'fastify';

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
  /** name{labels} exactly as exposed: one time series */
  series: string;
}

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

export function parseExposition(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = LINE.exec(line);
    if (!match) throw new Error(`not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, key, value] of (match[3] ?? '').matchAll(LABEL)) labels[key as string] = value as string;
    samples.push({
      name: match[1] as string,
      labels,
      value: Number(match[4]),
      series: `${match[1]}${match[2] ?? ''}`,
    });
  }
  return samples;
}

export async function scrape(app: FastifyInstance): Promise<Sample[]> {
  const response = await app.inject('/metrics');
  if (response.statusCode !== 200) throw new Error(`/metrics answered ${response.statusCode}`);
  return parseExposition(response.body);
}

/** The sum of the samples of `name` whose labels include `labels` (0 when there are none). */
export function total(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  return samples
    .filter((sample) => sample.name === name)
    .filter((sample) => Object.entries(labels).every(([key, value]) => sample.labels[key] === value))
    .reduce((sum, sample) => sum + sample.value, 0);
}

/** The single sample of `name` with exactly these labels, or undefined. */
export function value(samples: Sample[], name: string, labels: Record<string, string>): number | undefined {
  const keys = Object.keys(labels);
  return samples.find(
    (sample) =>
      sample.name === name &&
      Object.keys(sample.labels).length === keys.length &&
      keys.every((key) => sample.labels[key] === labels[key]),
  )?.value;
}

/** How far each metric moved between two scrapes. */
export function moved(before: Sample[], after: Sample[]) {
  return (name: string, labels: Record<string, string> = {}) =>
    total(after, name, labels) - total(before, name, labels);
}

/** The metrics the sync feeds (their label sets must stay bounded). */
export const SYNC_METRIC_PREFIXES = ['integration_', 'whoop_', 'worker_jobs'];
