// Renders a Report (zombies, overdue, unstick) in every output format of the contract, the way
// kubectl prints its own: NAMESPACE only across namespaces, <none> for an empty cell, `-o name` as
// `pod/NAME` / `job.batch/NAME`, "No resources found ..." on stderr when nothing matched.
import {formatAge} from '../core/duration.js'
import {type Report, type ReportItem, isActionable} from '../core/report.js'
import {kubectlTypeOfKind} from '../kube/resources.js'
import {type OutputFormat, renderDocument} from './output.js'
import {renderTable} from './table.js'

/** What the report was a scan of (one namespace, or every namespace: `-A`) and how it was run. */
export interface ReportScope {
  allNamespaces: boolean
  /** `--dry-run=server`: the requests were sent with dryRun=All. */
  serverDryRun?: boolean
  /** `--dry-run=none`: the user asked for no dry run (nothing acted all the same without --yes). */
  dryRunNone?: boolean
}

const NONE = '<none>'

export function renderReport(report: Report, format: OutputFormat, scope: ReportScope): string {
  switch (format) {
    case 'json':
    case 'yaml':
      return renderDocument(contractDocument(report), format)
    case 'name':
      return report.items
        .filter(isActionable)
        .map((item) => `${kubectlName(item)}\n`)
        .join('')
    default:
      if (report.items.length === 0) return ''
      return itemsTable(report, format === 'wide', scope) + summaryLine(report, scope.serverDryRun, scope.dryRunNone)
  }
}

/** `pod/NAME`, `job.batch/NAME`: kubectl's own form, which `kubectl delete -n NS` accepts. */
export function kubectlName(item: Pick<ReportItem, 'kind' | 'name'>): string {
  return `${kubectlTypeOfKind(item.kind)}/${item.name}`
}

/**
 * kubectl's "No resources found in NS namespace." ("No resources found" across namespaces), for
 * stderr when nothing matched; `namespaceExists === false` adds why a namespace may show nothing.
 * Documents (json, yaml) say it themselves with an empty item list.
 */
export function nothingFoundNotice(report: Report, format: OutputFormat, namespace: string | undefined, namespaceExists?: boolean): string {
  if (format === 'json' || format === 'yaml') return ''
  if (format === 'name' ? report.items.some(isActionable) : report.items.length > 0) return ''
  if (namespace === undefined) return 'No resources found\n'
  const hint = namespaceExists === false ? `hint: namespace "${namespace}" does not exist (kubectl get namespaces lists them)\n` : ''
  return `No resources found in ${namespace} namespace.\n${hint}`
}

/** The JSON document exactly as the contract lists its fields, in its order (warnings only when there are any). */
function contractDocument(report: Report): Report {
  const {apiVersion, kind, runId, context, generatedAt, dryRun, db, source, summary, items, warnings} = report
  const document: Report = {apiVersion, kind, runId, context, generatedAt, dryRun, ...(db && {db: {source: db.source, via: db.via}}), ...(source && {source: {...source}}), summary, items}
  return warnings && warnings.length > 0 ? {...document, warnings} : document
}

function itemsTable(report: Report, wide: boolean, scope: ReportScope): string {
  // Pod reports hold task instances; unstick reports hold Jobs and other objects, which have none.
  const taskColumns = wide && report.kind !== 'UnstickReport'
  const headers = [...(scope.allNamespaces ? ['NAMESPACE'] : []), 'NAME', 'AGE', 'PHASE', 'REASON', 'ACTION']
  if (taskColumns) headers.push('DAG', 'TASK', 'RUN', 'MAP', 'TRY', 'STATE')
  if (wide) headers.push('DETAIL')
  const rows = report.items.map((item) => {
    // unstick mixes kinds (jobs, pods, dependents): name them as kubectl does with several types.
    const name = report.kind === 'UnstickReport' ? kubectlName(item) : item.name
    const row = [...(scope.allNamespaces ? [item.namespace] : []), name, formatAge(item.ageSeconds), item.phase || NONE, item.reason, actionCell(item)]
    if (taskColumns) row.push(...taskCells(item))
    if (wide) row.push(item.detail || NONE)
    return row
  })
  return renderTable(headers, rows)
}

function actionCell(item: ReportItem): string {
  if (item.action === 'skipped') return `skipped (${item.skipReason})`
  if (item.action === 'failed') return `failed: ${item.error ?? 'unknown error'}`
  if (item.action === 'unknown') return `unknown: ${item.error ?? 'outcome not known'}`
  return item.action
}

function taskCells(item: ReportItem): string[] {
  const ti = item.taskInstance
  if (!ti) return [NONE, NONE, NONE, NONE, NONE, NONE]
  // map_index -1 is Airflow's "not mapped": an empty cell, as kubectl shows a field that is not set.
  return [ti.dagId, ti.taskId, ti.runId, ti.mapIndex < 0 ? NONE : String(ti.mapIndex), String(ti.tryNumber), ti.state ?? NONE]
}

/** How a summary speaks of each report's findings, and of what would act on them. */
interface Wording {
  noun: string
  /** The request sent for each finding. */
  verb: string
  /** What would act on what a dry run found. */
  howToAct: string
  /** The same after --dry-run=server, which stays a dry run whatever else is given. */
  howToActAfterServerDryRun: string
}

const WORDING: Record<Report['kind'], Wording> = {
  ZombieReport: {
    noun: 'zombie pod',
    verb: 'delete',
    howToAct: 'add --delete --yes to delete them',
    howToActAfterServerDryRun: 'run it with --delete --yes and without --dry-run=server to delete them',
  },
  OverdueReport: {
    noun: 'overdue pod',
    verb: 'delete',
    howToAct: 'add --delete --yes to delete them',
    howToActAfterServerDryRun: 'run it with --delete --yes and without --dry-run=server to delete them',
  },
  UnstickReport: {
    noun: 'stuck object',
    verb: 'patch',
    howToAct: 'add --yes to remove their finalizers',
    howToActAfterServerDryRun: 'run it with --yes and without --dry-run=server to remove their finalizers',
  },
}

function plural(count: number, noun: string): string {
  if (count === 1) return `${count} ${noun}`
  // English: a patch, 3 patches; a delete, 3 deletes.
  return `${count} ${noun}${/(?:s|x|z|ch|sh)$/.test(noun) ? 'es' : 's'}`
}

/** `7 zombie pods found among 20 scanned; 8 skipped (5 too-young, 3 keep-annotation); ...` */
export function summaryLine(report: Report, serverDryRun = false, dryRunNone = false): string {
  const {scanned, found, acted, failed, skipped, unknown} = report.summary
  const wording = WORDING[report.kind]
  const parts = [`${plural(found, wording.noun)} found among ${scanned} scanned`]
  if (skipped > 0) parts.push(`${skipped} skipped (${skipBreakdown(report.items)})`)
  const pending = report.items.filter((i) => i.action === 'none').length
  if (report.dryRun && serverDryRun) {
    // Each request went to the API server with dryRun=All: say what it accepted and what it refused.
    if (pending > 0) parts.push(`server dry run: the API server would accept ${plural(pending, wording.verb)}`)
    if (failed > 0) parts.push(`${failed} refused`)
    if (pending + failed > 0) parts.push(`nothing changed (${wording.howToActAfterServerDryRun})`)
  } else if (report.dryRun) {
    // Not a dry run to one who said --dry-run=none: only what is true, that nothing changed.
    if (pending > 0) parts.push(`${dryRunNone ? '' : 'dry run: '}nothing changed (${wording.howToAct})`)
  } else {
    if (report.kind === 'UnstickReport') {
      const deleted = report.items.filter((i) => i.action === 'deleted').length
      parts.push(`${acted - deleted} patched`)
      if (deleted > 0) parts.push(`${plural(deleted, 'dependent')} deleted`)
    } else {
      parts.push(`${acted} deleted`)
    }
    if (failed > 0) parts.push(`${failed} failed`)
    if (unknown > 0) parts.push(`${unknown} with an unknown outcome (may have been applied)`)
  }
  return parts.join('; ') + '\n'
}

/** `5 too-young, 3 keep-annotation`, most frequent first. */
function skipBreakdown(items: ReportItem[]): string {
  const counts = new Map<string, number>()
  for (const item of items) if (item.action === 'skipped') counts.set(item.skipReason ?? 'unknown', (counts.get(item.skipReason ?? 'unknown') ?? 0) + 1)
  return [...counts]
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .map(([reason, count]) => `${count} ${reason}`)
    .join(', ')
}
