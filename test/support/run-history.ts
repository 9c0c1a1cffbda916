// The run store as the CLI shows it (`history`, `history show`) and a report on stdout, each checked
// against the contract's schema: for the tests of what a run recorded.
import {tmpdir} from 'node:os'
import path from 'node:path'
import {expect} from 'vitest'
import type {Report} from '../../src/core/report.js'
import type {RunDocument, RunListDocument} from '../../src/store/documents.js'
import {runCli} from './cli.js'
import {assertValidReport, assertValidRun, assertValidRunList} from './contract.js'

/**
 * The record as it stands: history with no cluster to ask (a kubeconfig that does not exist) settles
 * nothing itself, so a test reads what the runs recorded (unknown-settlement.test.ts tests history's
 * own settling).
 */
function recordOnly(env: Record<string, string>): Record<string, string> {
  return {...env, KUBECONFIG: path.join(tmpdir(), 'airflow-reap-tests-no-such-dir', 'kubeconfig')}
}

export async function historyOf(env: Record<string, string>): Promise<RunListDocument> {
  const result = await runCli(['history', '-o', 'json'], {env: recordOnly(env)})
  expect(result.stderr).toBe('')
  const document = JSON.parse(result.stdout) as RunListDocument
  assertValidRunList(document)
  return document
}

export async function showRun(env: Record<string, string>, runId: number): Promise<RunDocument> {
  const result = await runCli(['history', 'show', String(runId), '-o', 'json'], {env: recordOnly(env)})
  const document = JSON.parse(result.stdout) as RunDocument
  assertValidRun(document)
  return document
}

export function reportOf(stdout: string): Report {
  const report = JSON.parse(stdout) as Report
  assertValidReport(report)
  return report
}

/** A report but what may differ between two runs and two sources: when, which run, which source, the ages. */
export function comparable(report: Report): unknown {
  const {generatedAt: _g, runId: _r, db: _d, source: _s, ...rest} = report
  return {...rest, items: rest.items.map(({ageSeconds: _a, ...item}) => item)}
}
