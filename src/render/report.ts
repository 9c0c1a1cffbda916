// Renders a Report (zombies, overdue, unstick) in every output format of the contract.
import {formatAge} from '../core/duration.js'
import type {Report, ReportItem} from '../core/report.js'
import {type OutputFormat, renderDocument} from './output.js'
import {renderTable} from './table.js'

export function renderReport(report: Report, format: OutputFormat): string {
  switch (format) {
    case 'json':
    case 'yaml':
      return renderDocument(contractDocument(report), format)
    case 'name':
      return report.items.map((item) => `${item.kind.toLowerCase()}/${item.namespace}/${item.name}\n`).join('')
    case 'wide':
      return itemsTable(report, true) + summaryLine(report)
    default:
      return itemsTable(report, false) + summaryLine(report)
  }
}

/** The JSON document exactly as the contract lists its fields, in its order (warnings only when there are any). */
function contractDocument(report: Report): Report {
  const {apiVersion, kind, runId, context, generatedAt, dryRun, db, summary, items, warnings} = report
  const document: Report = {apiVersion, kind, runId, context, generatedAt, dryRun, ...(db && {db: {source: db.source, via: db.via}}), summary, items}
  return warnings && warnings.length > 0 ? {...document, warnings} : document
}

function itemsTable(report: Report, wide: boolean): string {
  if (report.items.length === 0) return ''
  const headers = ['NAMESPACE', 'NAME', 'AGE', 'PHASE', 'REASON', 'ACTION']
  if (wide) headers.push('DAG', 'TASK', 'RUN', 'MAP', 'TRY', 'STATE', 'DETAIL')
  const rows = report.items.map((item) => {
    // unstick mixes kinds (jobs, pods, dependents): name them as kubectl does with several types.
    const name = report.kind === 'UnstickReport' ? `${item.kind.toLowerCase()}/${item.name}` : item.name
    const row = [item.namespace, name, formatAge(item.ageSeconds), item.phase ?? '', item.reason, actionCell(item)]
    if (wide) row.push(...taskCells(item), item.detail)
    return row
  })
  return renderTable(headers, rows)
}

function actionCell(item: ReportItem): string {
  if (item.action === 'skipped') return `skipped (${item.skipReason})`
  if (item.action === 'failed') return `failed: ${item.error ?? ''}`
  if (item.action === 'unknown') return `unknown: ${item.error ?? ''}`
  return item.action
}

function taskCells(item: ReportItem): string[] {
  const ti = item.taskInstance
  if (!ti) return ['', '', '', '', '', '']
  return [ti.dagId, ti.taskId, ti.runId, String(ti.mapIndex), String(ti.tryNumber), ti.state ?? 'none']
}

const NOUNS: Record<Report['kind'], string> = {
  ZombieReport: 'zombie pod',
  OverdueReport: 'overdue pod',
  UnstickReport: 'stuck object',
}

function summaryLine(report: Report): string {
  const {scanned, found, acted, failed, skipped, unknown} = report.summary
  const noun = NOUNS[report.kind]
  const parts = [`${found} ${noun}${found === 1 ? '' : 's'} found among ${scanned} scanned`]
  if (skipped > 0) parts.push(`${skipped} skipped`)
  if (report.dryRun) {
    if (found - skipped > 0) parts.push('dry run: nothing changed (add --yes to act)')
  } else {
    if (report.kind === 'UnstickReport') {
      const deleted = report.items.filter((i) => i.action === 'deleted').length
      parts.push(`${acted - deleted} patched`)
      if (deleted > 0) parts.push(`${deleted} dependent${deleted === 1 ? '' : 's'} deleted`)
    } else {
      parts.push(`${acted} deleted`)
    }
    if (failed > 0) parts.push(`${failed} failed`)
    if (unknown > 0) parts.push(`${unknown} with an unknown outcome (may have been applied)`)
  }
  return parts.join('; ') + '\n'
}
