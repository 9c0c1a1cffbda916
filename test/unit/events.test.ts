import {Event} from 'kubernetes-models/events.k8s.io/v1'
import {describe, expect, it} from 'vitest'
import {actionEvent, eventReasonOf, microTime, noteOf, reportingInstanceFor, truncateBytes} from '../../src/core/events.js'
import type {ReportItem} from '../../src/core/report.js'

const item = (over: Partial<ReportItem> = {}): ReportItem => ({
  kind: 'Pod',
  namespace: 'airflow',
  name: 'etl-extract-abc',
  uid: '5c1b6c1e-0000-4000-8000-000000000001',
  ageSeconds: 600,
  reason: 'no-active-task-instance',
  detail: 'task instance is success (try 1); the pod is still here',
  taskInstance: {dagId: 'etl', taskId: 'extract', runId: 'manual__1', mapIndex: 2, tryNumber: 1, state: 'success'},
  action: 'deleted',
  ...over,
})

describe('eventReasonOf', () => {
  it.each<[Partial<ReportItem>, string | undefined, string | undefined]>([
    [{reason: 'no-active-task-instance', action: 'deleted'}, 'ZombiePodDeleted', 'Delete'],
    [{reason: 'stale-try', action: 'deleted'}, 'ZombiePodDeleted', 'Delete'],
    [{reason: 'execution-timeout-exceeded', action: 'deleted'}, 'ExecutionTimeoutExceeded', 'Delete'],
    [{reason: 'stuck-terminating', action: 'patched', kind: 'Job'}, 'FinalizerRemoved', 'Patch'],
    [{reason: 'stuck-terminating', action: 'deleted'}, 'DependentDeleted', 'Delete'],
    [{action: 'none'}, undefined, undefined],
    [{action: 'skipped'}, undefined, undefined],
    [{action: 'failed'}, undefined, undefined],
  ])('%j → %s %s', (over, reason, action) => {
    const got = eventReasonOf(item(over))
    expect(got?.reason).toBe(reason)
    expect(got?.action).toBe(action)
  })
})

describe('actionEvent', () => {
  const context = {apiVersion: 'v1', reportingInstance: 'airflow-reap-cron-123', nowNanos: 1_796_040_000_123_456_789n}

  it('names the event <object>.<nanoseconds in hex>, as client-go does, and validates against the schema', () => {
    const event = actionEvent(item(), context)!
    expect(event.metadata).toEqual({name: `etl-extract-abc.${context.nowNanos.toString(16)}`, namespace: 'airflow'})
    expect(event.eventTime).toBe('2026-11-30T12:00:00.123456Z')
    expect(event.regarding).toEqual({apiVersion: 'v1', kind: 'Pod', namespace: 'airflow', name: 'etl-extract-abc', uid: item().uid})
    expect(event.note).toBe('task instance is success (try 1); the pod is still here (task instance etl.extract, run manual__1, map_index 2, try 1, state success)')
    new Event(event).validate()
  })

  it('nothing for an item that changed nothing', () => {
    expect(actionEvent(item({action: 'skipped', skipReason: 'too-young'}), context)).toBeUndefined()
  })

  it('keeps the note within the API server limit of 1024 bytes', () => {
    const event = actionEvent(item({detail: 'é'.repeat(2000)}), context)!
    expect(Buffer.byteLength(event.note)).toBeLessThanOrEqual(1024)
    expect(event.note.endsWith('...')).toBe(true)
  })
})

describe('helpers', () => {
  it('noteOf without a task instance is the detail', () => {
    expect(noteOf({detail: 'd', taskInstance: null})).toBe('d')
  })
  it('microTime has six fractional digits', () => {
    expect(microTime(0n)).toBe('1970-01-01T00:00:00.000000Z')
    expect(microTime(1_000_001_999n)).toBe('1970-01-01T00:00:01.000001Z')
  })
  it('truncateBytes never splits a character', () => {
    expect(truncateBytes('abc', 10)).toBe('abc')
    expect(truncateBytes('ééééé', 8)).toBe('éé...')
  })
  it('reportingInstanceFor stays within 128 characters', () => {
    expect(reportingInstanceFor('x'.repeat(300))).toHaveLength(128)
  })
})

describe('the event as a whole, and the edges of its limits', () => {
  const context = {apiVersion: 'batch/v1', reportingInstance: 'airflow-reap-cron-123', nowNanos: 1_796_040_000_123_456_789n}

  it('a patched Job: every field, as client-go would post it', () => {
    const job = item({kind: 'Job', name: 'export', reason: 'stuck-terminating', action: 'patched', detail: 'removed [orphan]', taskInstance: null})
    expect(actionEvent(job, context)).toEqual({
      apiVersion: 'events.k8s.io/v1',
      kind: 'Event',
      metadata: {name: `export.${context.nowNanos.toString(16)}`, namespace: 'airflow'},
      eventTime: '2026-11-30T12:00:00.123456Z',
      reportingController: 'airflow-reap',
      reportingInstance: 'airflow-reap-cron-123',
      action: 'Patch',
      reason: 'FinalizerRemoved',
      regarding: {apiVersion: 'batch/v1', kind: 'Job', namespace: 'airflow', name: 'export', uid: item().uid},
      note: 'removed [orphan]',
      type: 'Normal',
    })
  })

  it('a reporting instance given longer than the limit is cut to it', () => {
    expect(actionEvent(item(), {...context, reportingInstance: 'i'.repeat(200)})!.reportingInstance).toBe('i'.repeat(128))
  })

  it('an unmapped task has no map_index in the note; map index 0 has one', () => {
    const ti = item().taskInstance!
    expect(noteOf({detail: 'd', taskInstance: {...ti, mapIndex: -1}})).toBe('d (task instance etl.extract, run manual__1, try 1, state success)')
    expect(noteOf({detail: 'd', taskInstance: {...ti, mapIndex: 0, state: null}})).toBe('d (task instance etl.extract, run manual__1, map_index 0, try 1, state none)')
  })

  it('truncateBytes: exactly at the limit is kept whole; one byte over is cut with room for the dots', () => {
    expect(truncateBytes('abcdefgh', 8)).toBe('abcdefgh')
    expect(truncateBytes('abcdefghi', 8)).toBe('abcde...')
    expect(Buffer.byteLength(truncateBytes('abcdefghi', 8))).toBe(8)
  })
})
