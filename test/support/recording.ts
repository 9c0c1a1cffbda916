// A Progress and an ActionJournal that remember what they were told, for the in-process tests of
// src/reap: what a run says on stderr and what it journals, in order.
import type {Progress} from '../../src/reap/progress.js'
import type {ActionJournal} from '../../src/reap/recorder.js'

export type RecordingProgress = Progress & {warnings: string[]; updates: string[]; notes: string[]}

export function recordingProgress(): RecordingProgress {
  const warnings: string[] = []
  const updates: string[] = []
  const notes: string[] = []
  return {warnings, updates, notes, update: (t) => updates.push(t), warn: (t) => warnings.push(t), note: (t) => notes.push(t), stop: () => {}}
}

export type RecordingJournal = ActionJournal & {calls: string[]; listedCounts: number[]}

/** Each call as `intent VERB KIND/NAME` or `outcome KIND/NAME ACTION`; listed counts apart. */
export function recordingJournal(): RecordingJournal {
  const calls: string[] = []
  const listedCounts: number[] = []
  return {
    calls,
    listedCounts,
    intent: (item, verb) => calls.push(`intent ${verb} ${item.kind}/${item.name}`),
    outcome: (item) => calls.push(`outcome ${item.kind}/${item.name} ${item.action}`),
    listed: (n) => listedCounts.push(n),
  }
}
