// The benchmark's synthetic Airflow installation, generated deterministically from (N, anchor time) so
// that the fake API server process (pods) and the DB loader (rows) build the same world separately.
//
// Shape, for N KubernetesPodOperator pods:
// - KPO task-instance "slots" are packed 5 per running dag run: `extract`, `transform` mapped over
//   map_index 0..2, and the TaskGroup task `load.publish`. Every running dag run also has 45 other
//   tasks (`step_00`..`step_44`): 5 done, 40 unfinished (none, scheduled, queued, up_for_retry,
//   deferred, up_for_reschedule), so ~9-10% of all task-instance rows are active.
// - 10 running dag runs per DAG (hourly runs that are still going); DAGs spread over 20 namespaces.
// - Every running dag run has 9 finished "history" runs of the same DAG (all 50 task instances
//   finished) that ended days before the oldest pod: M = 500 rows per 5 pods = 100 × N.
// - Exactly 3% of pods are zombies (pod index p with 37p mod 100 < 3): 4 in 5 belong to a task
//   instance that finished (success/failed) while the pod kept running (a sidecar that never exits);
//   1 in 5 is the pod of an older try of a `running` task instance whose pod_name XCom names the new
//   try's pod, which is in the cluster too (the "stale-try" rule). Every zombie pod is Running and
//   older than 5 minutes, so all are deletable candidates.
import {makeSafeLabelValue} from '../src/core/labels.js'
import {kpoLabels} from '../test/support/kpo.js'

export const NAMESPACES = 20
export const KPO_TASKS = [
  {taskId: 'extract', mapIndex: -1},
  {taskId: 'transform', mapIndex: 0},
  {taskId: 'transform', mapIndex: 1},
  {taskId: 'transform', mapIndex: 2},
  {taskId: 'load.publish', mapIndex: -1},
] as const
export const OTHER_TASKS = 45
export const TASKS_PER_RUN = 5 + OTHER_TASKS
export const HISTORY_RUNS_PER_RUNNING_RUN = 9
const RUNNING_RUNS_PER_DAG = 10
const MINUTE = 60_000
const HOUR = 60 * MINUTE

const DOMAINS = ['finance', 'marketing', 'ml', 'ingest', 'reporting', 'search', 'billing', 'growth']
const NOUNS = ['daily_rollup', 'feature_build', 'ledger_sync', 'events_compaction', 'model_training', 'attribution', 'export']
const STEP_OPERATORS = ['PythonOperator', 'BashOperator', 'SQLExecuteQueryOperator', 'EmptyOperator', 'S3KeySensor']

export type PodKind = 'healthy' | 'finished-zombie' | 'stale-zombie' | 'stale-current'

export interface Slot {
  run: number
  kpo: number // index in KPO_TASKS
  kind: 'healthy' | 'finished-zombie' | 'stale'
  tryNumber: number // the TI's current try
  pods: number[] // pod indexes (stale: [old, current])
}

export interface DagRunPlan {
  index: number
  dag: number
  dagId: string
  runId: string
  logicalMs: number
  startMs: number
  namespace: string
}

export interface Plan {
  n: number
  anchorMs: number
  dags: number
  slots: Slot[]
  runs: DagRunPlan[]
}

export interface BenchPod {
  index: number
  namespace: string
  name: string
  labels: Record<string, string>
  annotations: Record<string, string>
  creationMs: number
  kind: PodKind
  zombie: boolean
}

export function isZombieIndex(p: number): boolean {
  return (p * 37) % 100 < 3
}

export function dagIdOf(dag: number): string {
  return `${DOMAINS[dag % DOMAINS.length]}.${NOUNS[Math.floor(dag / DOMAINS.length) % NOUNS.length]}_${String(dag).padStart(4, '0')}`
}

export function namespaceOf(dag: number): string {
  return `airflow-team-${String(dag % NAMESPACES).padStart(2, '0')}`
}

/** Airflow's run_id timestamp form: 2026-11-23T08:00:00+00:00 (manual runs keep microseconds). */
function airflowIso(ms: number, micro = false): string {
  const iso = new Date(ms).toISOString()
  return `${micro ? iso.slice(0, 23) + '123' : iso.slice(0, 19)}+00:00`
}

export function planDataset(n: number, anchorMs: number): Plan {
  const slots: Slot[] = []
  let zombies = 0
  for (let p = 0; p < n; p++) {
    const s = slots.length
    const slot: Slot = {run: Math.floor(s / KPO_TASKS.length), kpo: s % KPO_TASKS.length, kind: 'healthy', tryNumber: s % 10 === 7 ? 2 : 1, pods: [p]}
    if (isZombieIndex(p)) {
      if (zombies % 5 === 4 && p + 1 < n) {
        slot.kind = 'stale'
        slot.tryNumber = 2
        slot.pods = [p, p + 1]
        p++ // the current try's pod (index p+1 is never a zombie index)
      } else {
        slot.kind = 'finished-zombie'
      }
      zombies++
    }
    slots.push(slot)
  }
  const runCount = Math.ceil(slots.length / KPO_TASKS.length)
  const dags = Math.max(NAMESPACES, Math.ceil(runCount / RUNNING_RUNS_PER_DAG))
  const runs: DagRunPlan[] = []
  for (let r = 0; r < runCount; r++) {
    const dag = r % dags
    const ordinal = Math.floor(r / dags)
    // Hourly runs still going: the newest started about an hour ago, the oldest about 12 hours ago.
    const logicalMs = anchorMs - (ordinal + 2) * HOUR - (dag % 60) * MINUTE
    const manual = r % 7 === 3
    const runId = manual ? `manual__${airflowIso(logicalMs + 17 * MINUTE, true)}` : `scheduled__${airflowIso(logicalMs)}`
    runs.push({index: r, dag, dagId: dagIdOf(dag), runId, logicalMs, startMs: logicalMs + HOUR + MINUTE, namespace: namespaceOf(dag)})
  }
  return {n, anchorMs, dags, slots, runs}
}

/** KPO-style pod name: the task id made DNS-safe plus an 8-character suffix, unique per pod index. */
export function podName(taskId: string, p: number): string {
  const scrambled = (Math.imul(p + 1, 2654435761) >>> 0).toString(36).padStart(7, '0')
  return `${taskId.replace(/[._]/g, '-')}-${scrambled}${(p % 36).toString(36)}`
}

/** Pod creation time of a slot's pods: [old or only pod, current try's pod]. */
function slotTimes(plan: Plan, slot: Slot): {tiStartMs: number; podMs: number[]} {
  const run = plan.runs[slot.run]
  const base = run.startMs + slot.kpo * 2 * MINUTE + 20_000
  if (slot.kind === 'stale') {
    // Try 1's pod was created 40 minutes after the run started; try 2 started 20 minutes later and made its own pod.
    const oldPod = base + 40 * MINUTE
    const tiStart = oldPod + 20 * MINUTE
    return {tiStartMs: tiStart, podMs: [oldPod, tiStart + 3_000]}
  }
  return {tiStartMs: base - 3_000, podMs: [base]}
}

export function* pods(plan: Plan): Generator<BenchPod> {
  for (const slot of plan.slots) {
    const run = plan.runs[slot.run]
    const task = KPO_TASKS[slot.kpo]
    const {podMs} = slotTimes(plan, slot)
    for (let i = 0; i < slot.pods.length; i++) {
      const p = slot.pods[i]
      const kind: PodKind =
        slot.kind === 'healthy' ? 'healthy' : slot.kind === 'finished-zombie' ? 'finished-zombie' : i === 0 ? 'stale-zombie' : 'stale-current'
      const tryNumber = slot.kind === 'stale' ? i + 1 : slot.tryNumber
      const labels = {
        ...kpoLabels({dagId: run.dagId, taskId: task.taskId, runId: run.runId, mapIndex: task.mapIndex, tryNumber}),
        team: DOMAINS[run.dag % DOMAINS.length],
        'app.kubernetes.io/managed-by': 'airflow',
      }
      const annotations: Record<string, string> = {'cluster-autoscaler.kubernetes.io/safe-to-evict': 'false'}
      if (p % 4 === 0) annotations['sidecar.istio.io/status'] = '{"initContainers":null,"containers":["istio-proxy"],"volumes":["istio-envoy","istio-data"]}'
      yield {
        index: p,
        namespace: run.namespace,
        name: podName(task.taskId, p),
        labels,
        annotations,
        creationMs: podMs[i],
        kind,
        zombie: kind === 'finished-zombie' || kind === 'stale-zombie',
      }
    }
  }
}

export function zombieCount(plan: Plan): number {
  return plan.slots.filter((s) => s.kind !== 'healthy').length
}

// --- rows for COPY (PostgreSQL text format) ---------------------------------------------------------

export const DAG_RUN_COLUMNS = [
  'id', 'dag_id', 'queued_at', 'execution_date', 'start_date', 'end_date', 'state', 'run_id', 'creating_job_id',
  'external_trigger', 'run_type', 'conf', 'data_interval_start', 'data_interval_end', 'last_scheduling_decision',
  'dag_hash', 'log_template_id', 'updated_at', 'clear_number',
]

export const TASK_INSTANCE_COLUMNS = [
  'task_id', 'dag_id', 'run_id', 'map_index', 'start_date', 'end_date', 'duration', 'state', 'try_number', 'max_tries',
  'hostname', 'unixname', 'job_id', 'pool', 'pool_slots', 'queue', 'priority_weight', 'operator', 'custom_operator_name',
  'queued_dttm', 'queued_by_job_id', 'pid', 'executor', 'executor_config', 'updated_at', 'rendered_map_index',
  'external_executor_id', 'trigger_id', 'trigger_timeout', 'next_method', 'next_kwargs', 'task_display_name',
]

export const XCOM_COLUMNS = ['dag_run_id', 'task_id', 'map_index', 'key', 'dag_id', 'run_id', 'value', 'timestamp']

const NULL = '\\N'
const PICKLED_EMPTY_DICT = '\\\\x80057d942e' // bytea hex in COPY text (the backslash doubled)

// Timestamps are the bulk of the 5M-row COPY text: format them by hand (UTC, milliseconds), caching the date part.
const DAY = 86_400_000
const PAD2 = Array.from({length: 100}, (_, i) => String(i).padStart(2, '0'))
const PAD3 = Array.from({length: 1000}, (_, i) => String(i).padStart(3, '0'))
const dayPrefixes = new Map<number, string>()

function ts(ms: number): string {
  const day = Math.floor(ms / DAY)
  let prefix = dayPrefixes.get(day)
  if (prefix === undefined) {
    prefix = new Date(day * DAY).toISOString().slice(0, 11)
    dayPrefixes.set(day, prefix)
  }
  let rest = ms - day * DAY
  const hours = Math.floor(rest / 3_600_000)
  rest -= hours * 3_600_000
  const minutes = Math.floor(rest / 60_000)
  rest -= minutes * 60_000
  const seconds = Math.floor(rest / 1000)
  return `${prefix}${PAD2[hours]}:${PAD2[minutes]}:${PAD2[seconds]}.${PAD3[rest - seconds * 1000]}Z`
}

function hex(text: string): string {
  return `\\\\x${Buffer.from(text, 'utf8').toString('hex')}`
}

interface TiRow {
  taskId: string
  dagId: string
  runId: string
  mapIndex: number
  state: string | null
  tryNumber: number
  startMs: number | null
  endMs: number | null
  operator: string
  customOperator?: string
  podHost?: string
  nextMethod?: string
}

function tiLine(row: TiRow, updatedMs: number, salt: number): string {
  const kpo = row.operator === 'KubernetesPodOperator'
  const started = row.startMs !== null
  const start = started ? ts(row.startMs!) : NULL
  const queued = started ? ts(row.startMs! - 2_000) : NULL
  const duration = started && row.endMs !== null ? ((row.endMs - row.startMs!) / 1000).toFixed(3) : NULL
  const worker = started
    ? `airflow-worker-${salt % 12}.airflow-worker.airflow.svc.cluster.local\tairflow\t${100_000 + (salt % 90_000)}`
    : `${NULL}\t${NULL}\t${NULL}`
  const pool = kpo ? 'kpo_pool' : 'default_pool'
  const process = started ? `${90_000 + (salt % 50)}\t${1000 + (salt % 30_000)}` : `${NULL}\t${NULL}`
  const celery = started ? `${((salt * 2654435761) >>> 0).toString(16)}-celery-task` : NULL
  const next = row.nextMethod ? `${row.nextMethod}\t{"__var": {}, "__type": "dict"}` : `${NULL}\t${NULL}`
  // Columns in TASK_INSTANCE_COLUMNS order.
  return (
    `${row.taskId}\t${row.dagId}\t${row.runId}\t${row.mapIndex}\t${start}\t${row.endMs === null ? NULL : ts(row.endMs)}\t${duration}\t` +
    `${row.state ?? NULL}\t${row.tryNumber}\t1\t${worker}\t${pool}\t1\tdefault\t${1 + (salt % 5)}\t${row.operator}\t` +
    `${row.customOperator ?? row.operator}\t${queued}\t${process}\tCeleryExecutor\t${PICKLED_EMPTY_DICT}\t${ts(updatedMs)}\t${NULL}\t` +
    `${celery}\t${NULL}\t${NULL}\t${next}\t${row.taskId}`
  )
}

const STEP_STATES: Array<string | null> = [
  ...Array<string>(5).fill('success'),
  ...Array<null>(25).fill(null),
  ...Array<string>(5).fill('scheduled'),
  ...Array<string>(5).fill('queued'),
  'up_for_retry', 'up_for_retry', 'deferred', 'up_for_reschedule', 'up_for_reschedule',
]

function stepId(i: number): string {
  return `step_${String(i).padStart(2, '0')}`
}

function stepOperator(i: number): string {
  return STEP_OPERATORS[i % STEP_OPERATORS.length]
}

export interface HistoryRun {
  id: number
  dag: number
  dagId: string
  runId: string
  logicalMs: number
  startMs: number
  endMs: number
  failed: boolean
}

/**
 * The finished runs: `perRunningRun` (default 9) per running run of the DAG, 3 hours apart, the newest
 * two days before the anchor; `skipPerRunningRun` leaves out that many (per running run) of the newest
 * ones, to add further history to a loaded DB.
 */
export function* historyRuns(plan: Plan, firstId: number, perRunningRun = HISTORY_RUNS_PER_RUNNING_RUN, skipPerRunningRun = 0): Generator<HistoryRun> {
  const runningPerDag = new Map<number, number>()
  for (const run of plan.runs) runningPerDag.set(run.dag, (runningPerDag.get(run.dag) ?? 0) + 1)
  let id = firstId
  for (let dag = 0; dag < plan.dags; dag++) {
    const running = runningPerDag.get(dag) ?? 0
    for (let k = skipPerRunningRun * running; k < (skipPerRunningRun + perRunningRun) * running; k++) {
      const logicalMs = plan.anchorMs - 48 * HOUR - k * 3 * HOUR - (dag % 60) * MINUTE
      const startMs = logicalMs + 3 * HOUR + MINUTE
      yield {id: id++, dag, dagId: dagIdOf(dag), runId: `scheduled__${airflowIso(logicalMs)}`, logicalMs, startMs, endMs: startMs + 50 * MINUTE, failed: (dag + k) % 23 === 0}
    }
  }
}

export function dagRunLine(id: number, dagId: string, runId: string, logicalMs: number, startMs: number, endMs: number | null, state: string): string {
  const manual = runId.startsWith('manual__')
  return [
    String(id),
    dagId,
    ts(startMs - 30_000),
    ts(logicalMs),
    ts(startMs),
    endMs === null ? NULL : ts(endMs),
    state,
    runId,
    String(50_000 + (id % 1000)),
    manual ? 't' : 'f',
    manual ? 'manual' : 'scheduled',
    PICKLED_EMPTY_DICT,
    ts(logicalMs),
    ts(logicalMs + 3600_000),
    ts(endMs ?? startMs + 60_000),
    'a3c9b8f0d1e2f3a4b5c6d7e8f9a0b1c2',
    '1',
    ts(endMs ?? startMs + 60_000),
    '0',
  ].join('\t')
}

export function historyRunLine(h: HistoryRun): string {
  return dagRunLine(h.id, h.dagId, h.runId, h.logicalMs, h.startMs, h.endMs, h.failed ? 'failed' : 'success')
}

/** dag_run rows: the running runs (ids 1..R), then the history runs. */
export function* dagRunLines(plan: Plan): Generator<string> {
  for (const run of plan.runs) yield dagRunLine(run.index + 1, run.dagId, run.runId, run.logicalMs, run.startMs, null, 'running')
  for (const h of historyRuns(plan, plan.runs.length + 1)) yield historyRunLine(h)
}

/** task_instance rows: 50 per running run (its pods' task instances among them), 50 per history run. */
export function* taskInstanceLines(plan: Plan): Generator<string> {
  const slotOf = new Map<number, Slot>()
  for (const slot of plan.slots) slotOf.set(slot.run * KPO_TASKS.length + slot.kpo, slot)
  let salt = 0
  for (const run of plan.runs) {
    for (let k = 0; k < KPO_TASKS.length; k++) {
      const task = KPO_TASKS[k]
      const slot = slotOf.get(run.index * KPO_TASKS.length + k)
      const base = {taskId: task.taskId, dagId: run.dagId, runId: run.runId, mapIndex: task.mapIndex, operator: 'KubernetesPodOperator'}
      if (!slot) {
        // The last run's KPO tasks beyond N pods: not started yet.
        yield tiLine({...base, state: null, tryNumber: 0, startMs: null, endMs: null}, run.startMs, salt++)
        continue
      }
      const {tiStartMs, podMs} = slotTimes(plan, slot)
      if (slot.kind === 'finished-zombie') {
        const failed = slot.run % 4 === 0
        yield tiLine({...base, state: failed ? 'failed' : 'success', tryNumber: slot.tryNumber, startMs: tiStartMs, endMs: podMs[0] + 10 * MINUTE}, podMs[0] + 10 * MINUTE, salt++)
      } else {
        yield tiLine({...base, state: 'running', tryNumber: slot.tryNumber, startMs: tiStartMs, endMs: null}, podMs[podMs.length - 1], salt++)
      }
    }
    for (let i = 0; i < OTHER_TASKS; i++) {
      const state = STEP_STATES[i]
      const done = state === 'success'
      const running = state === 'up_for_retry' || state === 'deferred' || state === 'up_for_reschedule'
      const startMs = done || running ? run.startMs + i * 30_000 : null
      yield tiLine(
        {
          taskId: stepId(i),
          dagId: run.dagId,
          runId: run.runId,
          mapIndex: -1,
          state,
          tryNumber: state === null ? 0 : 1,
          startMs,
          endMs: done || running ? run.startMs + i * 30_000 + 90_000 : null,
          operator: stepOperator(i),
          nextMethod: state === 'deferred' ? 'execute_complete' : undefined,
        },
        run.startMs + i * 30_000,
        salt++,
      )
    }
  }
  for (const h of historyRuns(plan, plan.runs.length + 1)) yield* historyTaskInstanceLines(h, () => salt++)
}

export function* historyTaskInstanceLines(h: HistoryRun, salt: () => number): Generator<string> {
  const tasks: Array<{taskId: string; mapIndex: number; operator: string}> = [
    ...KPO_TASKS.map((t) => ({...t, operator: 'KubernetesPodOperator'})),
    ...Array.from({length: OTHER_TASKS}, (_, i) => ({taskId: stepId(i), mapIndex: -1, operator: stepOperator(i)})),
  ]
  for (let i = 0; i < tasks.length; i++) {
    const t = tasks[i]
    const failedHere = h.failed && i === 7
    const state = failedHere ? 'failed' : h.failed && i > 7 ? 'upstream_failed' : i % 17 === 16 ? 'skipped' : 'success'
    const ran = state === 'success' || state === 'failed'
    const startMs = ran ? h.startMs + i * 50_000 : null
    yield tiLine(
      {taskId: t.taskId, dagId: h.dagId, runId: h.runId, mapIndex: t.mapIndex, state, tryNumber: failedHere ? 2 : ran ? 1 : 0, startMs, endMs: ran ? startMs! + 45_000 : null, operator: t.operator},
      h.endMs,
      salt(),
    )
  }
}

/** xcom rows: pod_name and pod_namespace of every KPO task instance with a pod in a running run. */
export function* xcomLines(plan: Plan): Generator<string> {
  const names = new Map<number, {name: string; namespace: string; creationMs: number}>()
  for (const pod of pods(plan)) names.set(pod.index, {name: pod.name, namespace: pod.namespace, creationMs: pod.creationMs})
  for (const slot of plan.slots) {
    const run = plan.runs[slot.run]
    const task = KPO_TASKS[slot.kpo]
    const current = names.get(slot.pods[slot.pods.length - 1])!
    const common = [String(run.index + 1), task.taskId, String(task.mapIndex)]
    const tail = (value: string) => [run.dagId, run.runId, hex(JSON.stringify(value)), ts(current.creationMs + 1_000)]
    yield [...common, 'pod_name', ...tail(current.name)].join('\t')
    yield [...common, 'pod_namespace', ...tail(current.namespace)].join('\t')
  }
}

/** dag rows (a subset of the columns). */
export function* dagLines(plan: Plan): Generator<string> {
  for (let dag = 0; dag < plan.dags; dag++) {
    yield [dagIdOf(dag), NULL, 'f', 'f', 't', ts(plan.anchorMs - MINUTE), `/opt/airflow/dags/${dagIdOf(dag)}.py`, NULL, 'data-platform', '16', '16'].join('\t')
  }
}

export const DAG_COLUMNS = ['dag_id', 'root_dag_id', 'is_paused', 'is_subdag', 'is_active', 'last_parsed_time', 'fileloc', 'processor_subdir', 'owners', 'max_active_tasks', 'max_active_runs']

/** The label a DB value takes on a pod (for checks in the bench itself). */
export const label = makeSafeLabelValue
