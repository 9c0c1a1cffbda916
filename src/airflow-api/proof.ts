// Re-proving candidate pods through the REST API (REST-API.md §5, §7): the lists of a scan are offset
// pages, not a snapshot (a row that leaves a filter between pages shifts the next page past a row), so
// a list only ever clears a pod. What convicts one is read again by itself just before it is reported
// or acted on: its task instance, whose path names its DAG and dag run (403: the credentials may not
// read the DAG); an answer names the DAG and run it belongs to, checked against the key asked for, and
// a task instance cannot exist without its run. A 404 is settled by reads of the DAG (404: no such
// DAG), the run (404: no such run) and the task's own list. Any answer that contradicts another (a 404
// for a task instance a list holds) is a doubt: nothing is decided on it.
import type {DagRunRef, Proof, ProofRequest, TaskRef} from '../airflow/types.js'
import {labelNormaliser, mayBeRewritten} from '../core/labels.js'
import type {TaskInstanceRow, TaskKey} from '../core/types.js'
import {isActiveState, taskKeyString} from '../core/types.js'
import {uniqueRuns, uniqueTaskKeys} from '../airflow/queries/dedupe.js'
import {AirflowApiError, type ApiAnswer, NotPermittedError} from './http.js'
import {type Personality, taskInstanceFromApi} from './personality.js'
import type {QueryValue} from './url.js'

/** The reads of the API source a proof is made of. */
export interface PointReader {
  readonly personality: Personality
  /** A GET below /api/vN: 2xx and 404 are answers; 403 on a DAG's own path throws NotPermittedError. */
  read(segments: string[], query: Record<string, QueryValue>, dagId?: string): Promise<ApiAnswer>
  /** Each task's own list (never the list of every DAG's active task instances: a proof reads what it names). */
  ownListsOfTasks(tasks: TaskRef[]): Promise<TaskInstanceRow[]>
  taskInstancesOfRuns(runs: DagRunRef[]): Promise<TaskInstanceRow[]>
  /** Every dag run of one DAG. */
  dagRunsOfDag(dagId: string): Promise<DagRunRef[]>
}

type Standing = 'readable' | 'missing' | 'not-permitted'

export async function proveByPointReads(reader: PointReader, request: ProofRequest): Promise<Proof> {
  const proof = new PointProof(reader)
  const [byTask, byRun, foundRuns] = await Promise.all([
    Promise.all(uniqueTaskKeys(request.tasks).map((key) => proof.taskInstance(key))),
    Promise.all(uniqueRuns(request.runs).map((run) => proof.wholeRun(run))),
    Promise.all(uniqueRuns(request.missingRuns).map(async (run) => ((await proof.mayExist(run)) ? [run] : []))),
  ])
  return {taskInstances: [...byTask.flat(), ...byRun.flat()], foundRuns: foundRuns.flat(), notPermitted: proof.notPermitted}
}

class PointProof {
  readonly notPermitted = new Set<string>()
  private readonly dags = new Map<string, Promise<Standing>>()
  private readonly runs = new Map<string, Promise<Standing>>()
  private readonly norm = labelNormaliser()

  constructor(private readonly reader: PointReader) {}

  /**
   * The task instance of this key, read by itself: none when its DAG, run or itself does not exist (or
   * may not be read). Its own read first: an answer proves the DAG and the run too (one request per
   * candidate, not three); only a 404 is settled by the DAG's and the run's reads and the task's list.
   */
  async taskInstance(key: TaskKey): Promise<TaskInstanceRow[]> {
    const row = await this.pointRead(key)
    if (row) return [row]
    if (this.notPermitted.has(key.dagId) || (await this.runStanding(key)) !== 'readable') return []
    await this.confirmAbsent(key)
    return []
  }

  /**
   * Every task instance of a run (a pod whose task_id label may have been rewritten matches any of its
   * tasks): the run's list clears pods; each row that could convict one (not active, its task id one
   * whose label is rewritten) is read again by itself.
   */
  async wholeRun(run: DagRunRef): Promise<TaskInstanceRow[]> {
    if ((await this.runStanding(run)) !== 'readable') return []
    const listed = await this.guard(run.dagId, () => this.reader.taskInstancesOfRuns([run]), [])
    return Promise.all(
      listed.map(async (row) => {
        if (isActiveState(row.state) || this.norm(row.taskId) === row.taskId) return row
        const proved = await this.pointRead(row)
        if (!proved) throw disagreement(row, 'lists it in its run but answers 404 when it is read by itself')
        return proved
      }),
    )
  }

  /**
   * Whether a dag run the scan's run list did not hold may exist after all, from its pod's labels: its
   * DAG read by id (403: not permitted; 404: no such DAG, so no such run), then the run by id, or, for
   * a run_id label that was rewritten, the DAG's own runs (a list with no filter: no row leaves it
   * between pages). A dag_id label that was rewritten names no DAG that can be read: not ruled out.
   */
  async mayExist(labels: DagRunRef): Promise<boolean> {
    if (this.norm(labels.dagId) !== labels.dagId || mayBeRewritten(labels.dagId)) return true
    if (!mayBeRewritten(labels.runId)) return (await this.runStanding(labels)) !== 'missing'
    const dag = await cached(this.dags, labels.dagId, () => this.standing(labels.dagId, ['dags', labels.dagId]))
    if (dag !== 'readable') return dag === 'not-permitted'
    const runs = await this.guard(labels.dagId, () => this.reader.dagRunsOfDag(labels.dagId), undefined)
    return runs === undefined || runs.some((run) => this.norm(run.runId) === labels.runId)
  }

  /** Whether a dag run can be read: its DAG first (once per DAG), then the run (once per run). */
  async runStanding(run: DagRunRef): Promise<Standing> {
    const dag = await cached(this.dags, run.dagId, () => this.standing(run.dagId, ['dags', run.dagId]))
    if (dag !== 'readable') return dag
    return cached(this.runs, JSON.stringify([run.dagId, run.runId]), () => this.standing(run.dagId, ['dags', run.dagId, 'dagRuns', run.runId], run))
  }

  private async standing(dagId: string, segments: string[], run?: DagRunRef): Promise<Standing> {
    const answer = await this.guard(dagId, () => this.reader.read(segments, {}, dagId), undefined)
    if (!answer) return 'not-permitted'
    if (answer.status === 404) return 'missing'
    const body = answer.body as {dag_id?: unknown; dag_run_id?: unknown} | undefined
    const same = body?.dag_id === dagId && (run === undefined || body?.dag_run_id === run.runId)
    if (!same) throw new AirflowApiError(`the Airflow API answered GET ${segments.join('/')} with another object than the one asked for`)
    return 'readable'
  }

  /** GET of one task instance (`/{task}` for map index -1, `/{task}/{map}` otherwise); undefined on 404. */
  private async pointRead(key: TaskKey): Promise<TaskInstanceRow | undefined> {
    const path = ['dags', key.dagId, 'dagRuns', key.runId, 'taskInstances', key.taskId, ...(key.mapIndex >= 0 ? [String(key.mapIndex)] : [])]
    const answer = await this.guard(key.dagId, () => this.reader.read(path, {}, key.dagId), undefined)
    if (!answer || answer.status === 404) return undefined
    const row = taskInstanceFromApi(this.reader.personality, answer.body)
    if (taskKeyString(row) !== taskKeyString(key)) throw disagreement(key, 'answered a read of it with another task instance')
    return row
  }

  /** A 404 counts as "no task instance" only when the task's own list agrees. */
  private async confirmAbsent(key: TaskKey): Promise<void> {
    const listed = await this.guard(key.dagId, () => this.reader.ownListsOfTasks([key]), [])
    if (listed.some((row) => taskKeyString(row) === taskKeyString(key))) throw disagreement(key, 'answers 404 when it is read by itself but lists it')
  }

  /** A read of a DAG the credentials may not read (403) records the DAG and answers `fallback`. */
  private async guard<T, F>(dagId: string, read: () => Promise<T>, fallback: F): Promise<T | F> {
    try {
      return await read()
    } catch (error) {
      if (!(error instanceof NotPermittedError)) throw error
      this.notPermitted.add(dagId)
      return fallback
    }
  }
}

function cached<T>(cache: Map<string, Promise<T>>, key: string, read: () => Promise<T>): Promise<T> {
  let value = cache.get(key)
  if (!value) cache.set(key, (value = read()))
  return value
}

function disagreement(key: TaskKey, what: string): AirflowApiError {
  const map = key.mapIndex >= 0 ? `[${key.mapIndex}]` : ''
  return new AirflowApiError(`the Airflow API ${what}: task instance ${key.dagId}.${key.taskId}${map} of run ${key.runId}; nothing is decided on answers that disagree`)
}
