// The Kubernetes Event (events.k8s.io/v1) that tells cluster users what airflow-reap did to an object
// and why: built from a report line whose action is known (deleted or patched), in the form client-go's
// event recorder gives its events (k8s.io/client-go/tools/events), so `kubectl get events` and every
// dashboard built on events show it like any controller's.
import type {ReportItem, TaskInstanceRef} from './report.js'

export const REPORTING_CONTROLLER = 'airflow-reap'

/** kube-apiserver's limits (pkg/apis/core/validation/events.go). */
export const NOTE_LIMIT_BYTES = 1024
export const REPORTING_INSTANCE_LIMIT = 128

export type EventReason = 'ZombiePodDeleted' | 'ExecutionTimeoutExceeded' | 'FinalizerRemoved' | 'DependentDeleted'

export interface ObjectReference {
  apiVersion: string
  kind: string
  namespace: string
  name: string
  uid: string
}

/** An events.k8s.io/v1 Event as POSTed (the API server fills uid, resourceVersion, creationTimestamp). */
export interface KubeEvent {
  apiVersion: 'events.k8s.io/v1'
  kind: 'Event'
  metadata: {name: string; namespace: string}
  eventTime: string
  reportingController: string
  reportingInstance: string
  action: 'Delete' | 'Patch'
  reason: EventReason
  regarding: ObjectReference
  note: string
  type: 'Normal'
}

export interface EventContext {
  /** apiVersion of the item's kind (`v1`, `batch/v1`). */
  apiVersion: string
  /** This process: `airflow-reap-<hostname>` (in a pod, the hostname is the pod's name). */
  reportingInstance: string
  /** When the action was known, in nanoseconds since the epoch (names the event, as client-go does). */
  nowNanos: bigint
}

/** Why an action gets an event: undefined for anything that changed nothing. */
export function eventReasonOf(item: Pick<ReportItem, 'action' | 'reason' | 'kind'>): {reason: EventReason; action: 'Delete' | 'Patch'} | undefined {
  if (item.action === 'patched') return {reason: 'FinalizerRemoved', action: 'Patch'}
  if (item.action !== 'deleted') return undefined
  switch (item.reason) {
    case 'no-active-task-instance':
    case 'stale-try':
      return {reason: 'ZombiePodDeleted', action: 'Delete'}
    case 'execution-timeout-exceeded':
      return {reason: 'ExecutionTimeoutExceeded', action: 'Delete'}
    case 'stuck-terminating':
      // unstick --delete-dependents: a dependent of a stuck foreground deletion, deleted as the GC would have.
      return {reason: 'DependentDeleted', action: 'Delete'}
  }
}

/** The event for a report line, or undefined when its action changed nothing. */
export function actionEvent(item: ReportItem, context: EventContext): KubeEvent | undefined {
  const why = eventReasonOf(item)
  if (!why) return undefined
  return {
    apiVersion: 'events.k8s.io/v1',
    kind: 'Event',
    metadata: {name: `${item.name}.${context.nowNanos.toString(16)}`, namespace: item.namespace},
    eventTime: microTime(context.nowNanos),
    reportingController: REPORTING_CONTROLLER,
    reportingInstance: context.reportingInstance.slice(0, REPORTING_INSTANCE_LIMIT),
    action: why.action,
    reason: why.reason,
    regarding: {apiVersion: context.apiVersion, kind: item.kind, namespace: item.namespace, name: item.name, uid: item.uid},
    note: truncateBytes(noteOf(item), NOTE_LIMIT_BYTES),
    type: 'Normal',
  }
}

/** `airflow-reap-<hostname>`, as client-go names the instance of a controller. */
export function reportingInstanceFor(hostname: string): string {
  return `${REPORTING_CONTROLLER}-${hostname}`.slice(0, REPORTING_INSTANCE_LIMIT)
}

/** The report's detail, and the task instance it was judged by. */
export function noteOf(item: Pick<ReportItem, 'detail' | 'taskInstance'>): string {
  const ti = item.taskInstance
  return ti ? `${item.detail} (task instance ${describeTaskInstance(ti)})` : item.detail
}

function describeTaskInstance(ti: TaskInstanceRef): string {
  const map = ti.mapIndex >= 0 ? `, map_index ${ti.mapIndex}` : ''
  return `${ti.dagId}.${ti.taskId}, run ${ti.runId}${map}, try ${ti.tryNumber}, state ${ti.state ?? 'none'}`
}

/** metav1.MicroTime: RFC 3339 with six fractional digits, UTC. */
export function microTime(nanos: bigint): string {
  const micros = nanos / 1000n
  const seconds = Number(micros / 1_000_000n)
  const fraction = String(micros % 1_000_000n).padStart(6, '0')
  return `${new Date(seconds * 1000).toISOString().slice(0, 19)}.${fraction}Z`
}

/** Cut to at most `limit` UTF-8 bytes, ending with `...` when cut (as client-go cuts a note). */
export function truncateBytes(text: string, limit: number): string {
  if (Buffer.byteLength(text) <= limit) return text
  let kept = ''
  let bytes = 0
  for (const char of text) {
    const size = Buffer.byteLength(char)
    if (bytes + size > limit - 3) break
    kept += char
    bytes += size
  }
  return `${kept}...`
}
