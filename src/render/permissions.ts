// The README's "Required RBAC" table, written from the permission table itself (core/permissions.ts)
// so the documentation cannot drift from what the commands call: `npm run docs:rbac` rewrites it and a
// test compares the two.
import {type ApiRule, type PermissionQuery, describeRule, requiredRules} from '../core/permissions.js'

const TYPE_JOBS = {kind: 'Job', group: 'batch', plural: 'jobs'}
const TYPE_PODS = {kind: 'Pod', group: '', plural: 'pods'}
const DEFAULT_TYPES = [{resource: TYPE_JOBS}, {resource: TYPE_PODS}]
const unstick = (extra: Partial<NonNullable<PermissionQuery['unstick']>> = {}) => ({targets: DEFAULT_TYPES, deleteDependents: false, wait: false, ...extra})

/** Command lines and what each adds; `NS` is the namespace scanned (`-n`), every namespace with `-A`. */
const COMMAND_ROWS: ReadonlyArray<{line: string; query: PermissionQuery; beyond?: PermissionQuery}> = [
  {line: '`zombies`, `overdue`', query: {command: 'zombies', namespace: 'NS'}},
  {line: '`zombies --delete --yes`, `overdue --delete --yes`', query: {command: 'zombies', namespace: 'NS', writes: 'real'}},
  {line: '`--delete --dry-run=server`', query: {command: 'zombies', namespace: 'NS', writes: 'server-dry-run'}},
  {line: '`unstick` (jobs and pods)', query: {command: 'unstick', namespace: 'NS', unstick: unstick()}},
  {line: '`unstick --yes`', query: {command: 'unstick', namespace: 'NS', writes: 'real', unstick: unstick()}},
  {line: '`unstick --yes --wait`', query: {command: 'unstick', namespace: 'NS', writes: 'real', unstick: unstick({wait: true})}},
  {line: '`unstick --delete-dependents --yes`', query: {command: 'unstick', namespace: 'NS', writes: 'real', unstick: unstick({deleteDependents: true})}},
  {
    line: '`unstick jobs/NAME --yes --wait`',
    query: {command: 'unstick', namespace: 'NS', writes: 'real', unstick: {targets: [{resource: TYPE_JOBS, name: 'NAME'}], deleteDependents: false, wait: true}},
  },
  {line: '`doctor`', query: {command: 'doctor', namespace: 'NS'}},
]

/** Where zombies, overdue and doctor find the DB, and what that adds (`AIRFLOW_NS`: --airflow-namespace, else -n). */
const DB_ROWS: ReadonlyArray<{line: string; db?: PermissionQuery['db']}> = [
  {line: '`--db URL` or an environment variable'},
  {line: 'found in the cluster (no flag)', db: {secret: {namespace: 'AIRFLOW_NS'}}},
  {line: '`--db-secret NAME[:KEY]`', db: {secret: {namespace: 'AIRFLOW_NS', name: 'NAME'}}},
  {line: 'a Service host reached by port-forward', db: {portForward: {namespace: 'DB_NS', service: 'SERVICE'}}},
]

function cell(rules: readonly ApiRule[]): string {
  if (rules.length === 0) return 'none'
  return rules.map((r) => `\`${describeRule(r)}\`${r.namespace && r.namespace !== 'NS' ? ` in ${r.namespace}` : ''}${r.bestEffort ? ' (best effort)' : ''}`).join(', ')
}

function key(rule: ApiRule): string {
  return `${describeRule(rule)}@${rule.namespace ?? ''}`
}

export function rbacMarkdown(): string {
  const lines = ['| command | needs, in `NS` unless said |', '|---|---|']
  for (const row of COMMAND_ROWS) lines.push(`| ${row.line} | ${cell(requiredRules(row.query))} |`)
  lines.push('', '| the DB (zombies, overdue, doctor) | adds |', '|---|---|')
  const base = new Set(requiredRules({command: 'doctor', namespace: 'NS'}).map(key))
  for (const row of DB_ROWS) {
    const added = requiredRules({command: 'doctor', namespace: 'NS', db: row.db}).filter((r) => !base.has(key(r)))
    lines.push(`| ${row.line} | ${cell(added)} |`)
  }
  return lines.join('\n') + '\n'
}

export const RBAC_TABLE_START = '<!-- rbac-table:start (generated from src/core/permissions.ts: npm run docs:rbac) -->'
export const RBAC_TABLE_END = '<!-- rbac-table:end -->'

/** The README with its generated table replaced by the current one. */
export function withRbacTable(readme: string): string {
  const start = readme.indexOf(RBAC_TABLE_START)
  const end = readme.indexOf(RBAC_TABLE_END)
  if (start < 0 || end < start) throw new Error('README.md has no generated RBAC table markers')
  return `${readme.slice(0, start + RBAC_TABLE_START.length)}\n${rbacMarkdown()}${readme.slice(end)}`
}
