// Callers may pass the same run or task twice; the joins would then return its rows twice.
import {type TaskKey, dagRunKeyString, taskKeyString} from '../../core/types.js'
import type {DagRunRef, TaskRef} from '../types.js'

export function uniqueRuns(runs: readonly DagRunRef[]): DagRunRef[] {
  const seen = new Map<string, DagRunRef>()
  for (const run of runs) seen.set(dagRunKeyString(run.dagId, run.runId), run)
  return [...seen.values()]
}

export function uniqueTaskKeys(keys: readonly TaskKey[]): TaskKey[] {
  const seen = new Map<string, TaskKey>()
  for (const key of keys) seen.set(taskKeyString(key), key)
  return [...seen.values()]
}

export function uniqueTaskRefs(tasks: readonly TaskRef[]): TaskRef[] {
  const seen = new Map<string, TaskRef>()
  for (const task of tasks) seen.set(JSON.stringify([task.dagId, task.taskId, task.runId]), task)
  return [...seen.values()]
}
