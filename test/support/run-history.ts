// The run store as the CLI shows it (`history`, `history show`) and a report on stdout, each checked
// against the contract's schema: for the tests of what a run recorded.
import {expect} from 'vitest'
import type {Report} from '../../src/core/report.js'
import type {RunDocument, RunListDocument} from '../../src/store/documents.js'
import {runCli} from './cli.js'
import {assertValidReport, assertValidRun, assertValidRunList} from './contract.js'

export async function historyOf(env: Record<string, string>): Promise<RunListDocument> {
  const result = await runCli(['history', '-o', 'json'], {env})
  expect(result.stderr).toBe('')
  const document = JSON.parse(result.stdout) as RunListDocument
  assertValidRunList(document)
  return document
}

export async function showRun(env: Record<string, string>, runId: number): Promise<RunDocument> {
  const result = await runCli(['history', 'show', String(runId), '-o', 'json'], {env})
  const document = JSON.parse(result.stdout) as RunDocument
  assertValidRun(document)
  return document
}

export function reportOf(stdout: string): Report {
  const report = JSON.parse(stdout) as Report
  assertValidReport(report)
  return report
}
