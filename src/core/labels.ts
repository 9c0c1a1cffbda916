// Airflow's label normaliser (make_safe_label_value) and the pod labels KubernetesPodOperator writes.
// Labels are not reversible, so matching always normalises the DB side (FACTS §2, §4.3).
import {createHash} from 'node:crypto'

const MAX_LABEL_LEN = 63
const HASH_CHARS = 9
const PREFIX_KEPT_WHEN_HASHED = MAX_LABEL_LEN - HASH_CHARS - 1

const ALNUM = /^[A-Za-z0-9]$/
const LABEL_CHAR = /^[A-Za-z0-9_.-]$/

/** Port of Airflow's `make_safe_label_value`; reproduces every vector of shared/airflow/label-vectors.json. */
export function makeSafeLabelValue(value: string): string {
  const cleaned = cleanLabelValue(value)
  if (cleaned === value && cleaned.length <= MAX_LABEL_LEN) return value
  const hash = createHash('md5').update(Buffer.from(value, 'utf8')).digest('hex').slice(0, HASH_CHARS)
  return `${cleaned.slice(0, PREFIX_KEPT_WHEN_HASHED)}-${hash}`
}

const REWRITE_SUFFIX = new RegExp(`-[0-9a-f]{${HASH_CHARS}}$`)

/**
 * Whether a label value may differ from the value it was made from. makeSafeLabelValue returns its
 * input unchanged, or rewrites it and then always ends it in `-` and 9 hex digits: a label without that
 * ending IS the original value. (One with it may still be original: a task named `load-0123abcde`.)
 */
export function mayBeRewritten(label: string): boolean {
  return REWRITE_SUFFIX.test(label)
}

function cleanLabelValue(value: string): string {
  // Code points, not UTF-16 units: Python iterates code points.
  const chars = [...value]
  let start = 0
  while (start < chars.length && !ALNUM.test(chars[start])) start++
  let end = chars.length
  while (end > start && !ALNUM.test(chars[end - 1])) end--
  return chars
    .slice(start, end)
    .filter((c) => LABEL_CHAR.test(c))
    .join('')
}

/** Memoised normaliser: dag_ids and run_ids repeat across thousands of rows, md5 need not. */
export function labelNormaliser(): (value: string) => string {
  const memo = new Map<string, string>()
  return (value) => {
    let label = memo.get(value)
    if (label === undefined) {
      label = makeSafeLabelValue(value)
      memo.set(value, label)
    }
    return label
  }
}

/** The selector every KPO pod (and subclass, @task.kubernetes) carries. */
export const KPO_LABEL_SELECTOR = 'kubernetes_pod_operator=True'
/** Annotation that protects a pod from ever being reaped. */
export const KEEP_ANNOTATION = 'airflow-reap/keep'

/** Task identity as written on a KPO pod (normalised values). */
export interface PodTaskLabels {
  dagId: string
  taskId: string
  runId: string
  mapIndex: number // -1 when the label is absent (unmapped task)
  tryNumber: number
}

export type PodLabelsResult = {ok: true; labels: PodTaskLabels} | {ok: false; problem: string}

const REQUIRED_LABELS = ['dag_id', 'task_id', 'run_id', 'try_number'] as const
/** Every label readPodTaskLabels reads: all a listed pod needs to keep of its labels. */
export const POD_TASK_LABELS: readonly string[] = [...REQUIRED_LABELS, 'map_index']

/** Reads the task identity from a pod's labels; a pod without it can never be judged. */
export function readPodTaskLabels(labels: Readonly<Record<string, string>>): PodLabelsResult {
  const missing = REQUIRED_LABELS.filter((key) => !labels[key])
  if (missing.length > 0) return {ok: false, problem: `missing label ${missing.join(', ')}`}
  const tryNumber = parseCount(labels.try_number)
  if (tryNumber === undefined) return {ok: false, problem: `label try_number="${labels.try_number}" is not a number`}
  let mapIndex = -1
  if (labels.map_index !== undefined) {
    const parsed = parseCount(labels.map_index)
    if (parsed === undefined) return {ok: false, problem: `label map_index="${labels.map_index}" is not a number`}
    mapIndex = parsed
  }
  return {
    ok: true,
    labels: {dagId: labels.dag_id, taskId: labels.task_id, runId: labels.run_id, mapIndex, tryNumber},
  }
}

function parseCount(text: string): number | undefined {
  return /^\d{1,9}$/.test(text) ? Number(text) : undefined
}

/** Key under which a pod and a task instance meet: normalised dag/task/run plus map index. */
export function taskLabelKey(dagId: string, taskId: string, runId: string, mapIndex: number): string {
  return `${dagId}\u0000${taskId}\u0000${runId}\u0000${mapIndex}`
}

export function runLabelKey(dagId: string, runId: string): string {
  return `${dagId}\u0000${runId}`
}
