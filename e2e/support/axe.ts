// Automated accessibility checks: axe-core injected into the page under test. Serious and critical
// violations fail the test with what to fix (rule, element, help); minor and moderate ones are
// reported by axe too but left to review, as the bar is "zero serious or critical".
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Page } from 'playwright-core';
import { screenshot } from './harness.ts';

interface AxeNode {
  target: unknown[];
  failureSummary?: string;
}

interface AxeViolation {
  id: string;
  impact: 'minor' | 'moderate' | 'serious' | 'critical' | null;
  help: string;
  helpUrl: string;
  nodes: AxeNode[];
}

interface TestContext {
  fail(message: string): void;
  pass(message: string): void;
}

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const BLOCKING = new Set(['serious', 'critical']);

/** Runs axe on the page as it is now (in-page state included) and returns the blocking violations. */
export async function blockingViolations(page: Page): Promise<AxeViolation[]> {
  // Our CSP allows no inline or injected <script> (addScriptTag would be refused); code evaluated
  // through the DevTools protocol is not subject to CSP.
  const loaded = await page.evaluate('typeof window.axe === "object"');
  if (!loaded) await page.evaluate(axeSource);
  const violations = (await page.evaluate(
    `window.axe.run(document, { resultTypes: ['violations'] }).then((r) => r.violations)`,
  )) as AxeViolation[];
  return violations.filter((violation) => violation.impact !== null && BLOCKING.has(violation.impact));
}

export function describeViolations(violations: AxeViolation[]): string {
  return violations
    .map((violation) => {
      const targets = violation.nodes.map((node) => `    ${node.target.join(' ')}`).join('\n');
      return `  [${violation.impact}] ${violation.id}: ${violation.help} (${violation.helpUrl})\n${targets}`;
    })
    .join('\n');
}

/** Asserts zero serious or critical axe violations on the page in its current state, named `state`. */
export async function checkAccessibility(t: TestContext, page: Page, state: string): Promise<void> {
  const violations = await blockingViolations(page);
  if (violations.length === 0) t.pass(`axe: no serious or critical violations on ${state}`);
  else
    t.fail(
      `axe: serious or critical violations on ${state} (${page.url()}):\n${describeViolations(violations)}`,
    );
}

/** The screenshot of a state under e2e-artifacts/ and its accessibility check, together. */
export async function captureState(t: TestContext, page: Page, name: string): Promise<void> {
  await screenshot(page, name);
  await checkAccessibility(t, page, name);
}
