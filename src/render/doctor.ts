// Renders a DoctorReport: one line per check (`ok  CHECK  message → what to do`) and a summary line,
// or the document itself as JSON or YAML.
import type {CheckResult, DoctorReport} from '../doctor/report.js'
import {renderDocument} from './output.js'
import {renderTable} from './table.js'

export const DOCTOR_OUTPUT_FORMATS = ['table', 'json', 'yaml'] as const
export type DoctorOutputFormat = (typeof DOCTOR_OUTPUT_FORMATS)[number]

export function renderDoctor(report: DoctorReport, format: DoctorOutputFormat): string {
  if (format === 'json' || format === 'yaml') return renderDocument(report, format)
  const rows = report.checks.map((check) => [check.status, checkLabel(check), messageCell(check)])
  return renderTable(['STATUS', 'CHECK', 'MESSAGE'], rows) + summaryLine(report)
}

function checkLabel(check: CheckResult): string {
  return check.subject ? `${check.check} ${check.subject}` : check.check
}

function messageCell(check: CheckResult): string {
  return check.fix ? `${check.message} → ${check.fix}` : check.message
}

/** `9 ok, 1 warning, 1 failure, 2 skipped`. */
export function summaryLine(report: DoctorReport): string {
  const {ok, warn, fail, skip} = report.summary
  const parts = [`${ok} ok`, `${warn} ${warn === 1 ? 'warning' : 'warnings'}`, `${fail} ${fail === 1 ? 'failure' : 'failures'}`]
  if (skip > 0) parts.push(`${skip} skipped`)
  return `\n${parts.join(', ')}\n`
}
