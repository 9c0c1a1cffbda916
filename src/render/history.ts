// Renders the run store's documents (`history`, `history show`).
import {formatAge} from '../core/duration.js'
import type {RunDocument, RunListDocument} from '../store/documents.js'
import type {StoredItem} from '../store/types.js'
import {type OutputFormat, renderDocument} from './output.js'
import {sourceParts} from './source-line.js'
import {renderTable} from './table.js'

export function renderRunList(document: RunListDocument, format: OutputFormat, now = new Date()): string {
  if (format === 'json' || format === 'yaml') return renderDocument(document, format)
  if (format === 'name') return document.items.map((run) => `run/${run.runId}\n`).join('')
  if (document.items.length === 0) return 'No runs recorded yet.\n'
  const headers = ['RUN', 'STARTED', 'COMMAND', 'CONTEXT', 'NAMESPACE', 'DRY-RUN', 'OUTCOME', 'SCANNED', 'FOUND', 'ACTED', 'FAILED', 'SKIPPED', 'UNKNOWN']
  if (format === 'wide') headers.push('SERVER', 'ERROR')
  const rows = document.items.map((run) => {
    const s = run.summary
    const row = [
      String(run.runId),
      `${formatAge((now.getTime() - Date.parse(run.startedAt)) / 1000)} ago`,
      run.command,
      run.context,
      run.namespace,
      run.dryRun ? 'yes' : 'no',
      run.outcome,
      ...(s ? [s.scanned, s.found, s.acted, s.failed, s.skipped, s.unknown].map(String) : ['', '', '', '', '', '']),
    ]
    if (format === 'wide') row.push(run.server, run.error ?? '')
    return row
  })
  return renderTable(headers, rows)
}

/** `DB:        secret NS/NAME:KEY via direct` or `API:       https://host (v2, ...)`, aligned with the other header lines. */
function sourceHeader(source: NonNullable<RunDocument['source']>): string {
  const {label, text} = sourceParts(source)
  return `${`${label}:`.padEnd(11)}${text}`
}

export function renderRun(document: RunDocument, format: OutputFormat): string {
  if (format === 'json' || format === 'yaml') return renderDocument(document, format)
  if (format === 'name') return document.items.map((i) => `${i.kind.toLowerCase()}/${i.namespace}/${i.name}\n`).join('')
  const s = document.summary
  const header = [
    `Run ${document.runId}: ${document.command} (${document.dryRun ? `dry run, ${document.dryRunMode ?? 'client'}` : 'for real'}) — ${document.outcome}`,
    `Started:   ${document.startedAt}`,
    `Finished:  ${document.finishedAt ?? '(not finished)'}`,
    `Context:   ${document.context} (${document.server}), namespace ${document.namespace}`,
    `Command:   airflow-reap ${document.argv.join(' ')}`,
    ...(document.source ? [sourceHeader(document.source)] : []),
    ...(s ? [`Summary:   scanned ${s.scanned}, found ${s.found}, acted ${s.acted}, failed ${s.failed}, skipped ${s.skipped}, unknown ${s.unknown}`] : []),
    ...(document.error ? [`Error:     ${document.error}`] : []),
  ].join('\n')
  if (document.items.length === 0) return `${header}\n`
  const headers = ['KIND', 'NAMESPACE', 'NAME', 'REASON', 'ACTION', 'ACTED-AT', 'DETAIL']
  const rows = document.items.map((i) => [
    i.kind,
    i.namespace,
    i.name,
    i.reason,
    actionCell(i),
    i.actedAt ?? '',
    i.detail,
  ])
  return `${header}\n\n${renderTable(headers, rows)}`
}

/** The action as recorded; an unknown one settled later shows both, the settlement after the original. */
function actionCell(item: StoredItem): string {
  if (item.action === 'skipped') return `skipped (${item.skipReason})`
  if (item.action !== 'failed' && item.action !== 'unknown') return item.action
  const recorded = `${item.action}: ${item.error}`
  if (!item.settled) return recorded
  const by = item.settled.byRunId === null ? 'by history' : `by run ${item.settled.byRunId}`
  return `${recorded}; settled ${item.settled.action} at ${item.settled.at} ${by}: ${item.settled.detail}`
}
