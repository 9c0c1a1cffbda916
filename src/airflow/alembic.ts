// Which Airflow releases an `alembic_version` revision belongs to. Airflow keeps a similar map itself
// (`_REVISION_HEADS_MAP` in airflow/utils/db.py, keyed by the `airflow_version` each migration file
// declares): the head revision each release with migrations leaves behind. Read from Airflow's
// migration reference (airflow-core/docs/migrations-ref.rst on main, through 3.3.0 as released) and
// that map. A release without migrations keeps the head of the one before it, hence the ranges.
// 3.1 is the one line with migrations added in patch releases: 3.1.0 ended at eaf332f43c7c, a later
// 3.1 release added cc92b33c6709 (declared "3.1.0"), and 3.1.8 added 82dbd68e6171 and 509b94a1042d.
// 2.6.2 has two ids: a DB that Airflow 2.6.2 itself migrated ends at c804e5c76e3e (the map in the
// real 2.10.5); Airflow 3 squashed the migrations before 2.7 into 4bc4d934e2bc (the map in 3.3.2).
import type {SchemaFamily} from '../core/types.js'

export interface ReleaseHead {
  revision: string
  /** The first release whose migrations end at this revision. */
  from: string
  /** The next release with migrations (exclusive); undefined: the newest this version knows. */
  until?: string
}

/** Oldest first. */
export const RELEASE_HEADS: readonly ReleaseHead[] = [
  {revision: 'c804e5c76e3e', from: '2.6.2', until: '2.7.0'},
  {revision: '4bc4d934e2bc', from: '2.6.2', until: '2.7.0'},
  {revision: '405de8318b3a', from: '2.7.0', until: '2.8.0'},
  {revision: '10b52ebd31f7', from: '2.8.0', until: '2.8.1'},
  {revision: '88344c1d9134', from: '2.8.1', until: '2.9.0'},
  {revision: '1949afb29106', from: '2.9.0', until: '2.9.2'},
  {revision: '686269002441', from: '2.9.2', until: '2.10.0'},
  {revision: '22ed7efa9da2', from: '2.10.0', until: '2.10.3'},
  {revision: '5f2621c13b39', from: '2.10.3', until: '3.0.0'},
  {revision: '29ce7909c52b', from: '3.0.0', until: '3.0.3'},
  {revision: 'fe199e1abd77', from: '3.0.3', until: '3.1.0'},
  {revision: 'eaf332f43c7c', from: '3.1.0', until: '3.1.8'},
  {revision: 'cc92b33c6709', from: '3.1.0', until: '3.1.8'},
  {revision: '82dbd68e6171', from: '3.1.8', until: '3.2.0'},
  {revision: '509b94a1042d', from: '3.1.8', until: '3.2.0'},
  {revision: '1d6611b6ab7c', from: '3.2.0', until: '3.3.0'},
  {revision: 'd2f4e1b3c5a7', from: '3.3.0'},
]

/** The oldest release airflow-reap supports. */
export const OLDEST_SUPPORTED = '2.7.0'

export type RevisionMatch =
  | {known: true; head: ReleaseHead; supported: boolean; family: SchemaFamily}
  | {known: false}

export function releaseOfRevision(revision: string): RevisionMatch {
  const head = RELEASE_HEADS.find((h) => h.revision === revision.trim())
  if (!head) return {known: false}
  return {known: true, head, supported: compareVersions(head.from, OLDEST_SUPPORTED) >= 0, family: familyOfRelease(head.from)}
}

/** `Airflow >=2.8.1 <2.9.0`, `Airflow >=3.3.0`: the releases whose schema ends at this revision. */
export function describeHead(head: ReleaseHead): string {
  return head.until === undefined ? `Airflow >=${head.from}` : `Airflow >=${head.from} <${head.until}`
}

/** The schema family a release's task_instance table has (see airflow/schema.ts familyOf). */
export function familyOfRelease(version: string): SchemaFamily {
  if (compareVersions(version, '3.0.0') >= 0) return 'airflow-3'
  if (compareVersions(version, '2.10.0') >= 0) return 'airflow-2.10'
  return 'airflow-2.7'
}

export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number)
  const pb = b.split('.').map(Number)
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const diff = (pa[i] ?? 0) - (pb[i] ?? 0)
    if (diff !== 0) return Math.sign(diff)
  }
  return 0
}
