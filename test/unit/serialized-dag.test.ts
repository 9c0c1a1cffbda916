import {gzipSync, deflateSync} from 'node:zlib'
import {describe, expect, it} from 'vitest'
import {decodeSerializedDag, executionTimeouts} from '../../src/airflow/serialized-dag.js'
import {judgeOverdue} from '../../src/core/serialized-dag.js'

const op = (fields: Record<string, unknown>) => ({__type: 'operator', __var: {_task_type: 'KubernetesPodOperator', ...fields}})

const v1 = {
  __version: 1,
  dag: {
    _dag_id: 'etl',
    tasks: [
      op({task_id: 'with_timeout', execution_timeout: 1800.0}),
      op({task_id: 'without_timeout'}),
      op({task_id: 'mapped', _is_mapped: true, partial_kwargs: {execution_timeout: {__type: 'timedelta', __var: 600.0}}}),
      {task_id: 'old_shape', execution_timeout: 60.0},
    ],
  },
}

describe('executionTimeouts', () => {
  it('reads bare seconds, partial_kwargs of mapped tasks and the old unwrapped shape', () => {
    expect(Object.fromEntries(executionTimeouts(v1))).toEqual({
      with_timeout: 1800,
      without_timeout: undefined,
      mapped: 600,
      old_shape: 60,
    })
  })

  it('falls back to client_defaults in format version 3', () => {
    const v3 = {__version: 3, client_defaults: {tasks: {execution_timeout: 900.0}}, dag: {tasks: [op({task_id: 'a'}), op({task_id: 'b', execution_timeout: 30.0})]}}
    expect(Object.fromEntries(executionTimeouts(v3))).toEqual({a: 900, b: 30})
  })

  it.each([
    ['not an object', 'garbage'],
    ['no dag', {__version: 1}],
    ['no tasks', {__version: 1, dag: {}}],
    ['task without id', {__version: 1, dag: {tasks: [op({})]}}],
  ])('rejects %s', (_name, value) => {
    expect(() => executionTimeouts(value)).toThrow()
  })
})

describe('decodeSerializedDag', () => {
  const text = JSON.stringify(v1)
  it.each([
    ['json object', v1, null],
    ['json text', text, null],
    ['zlib', null, deflateSync(Buffer.from(text))],
    ['gzip', null, gzipSync(Buffer.from(text))],
  ])('decodes %s', (_name, data, compressed) => {
    expect(decodeSerializedDag(data, compressed)).toEqual(v1)
  })
  it('rejects a row with neither column', () => {
    expect(() => decodeSerializedDag(null, null)).toThrow(/neither/)
  })
})

describe('judgeOverdue', () => {
  const start = new Date('2026-11-23T08:00:00Z')
  it.each([
    ['2 h into a 30 min timeout', '2026-11-23T10:00:00Z', 1800, 60, true, 5400],
    ['within the timeout', '2026-11-23T08:20:00Z', 1800, 60, false, -600],
    ['past the timeout but within the grace', '2026-11-23T08:30:30Z', 1800, 60, false, 30],
    ['exactly at the end of the grace: not yet', '2026-11-23T08:31:00Z', 1800, 60, false, 60],
    ['a second past the grace', '2026-11-23T08:31:01Z', 1800, 60, true, 61],
    ['sub-second time is cut to whole seconds', '2026-11-23T08:31:00.900Z', 1800, 60, false, 60],
  ])('%s', (_name, now, timeout, grace, overdue, overBy) => {
    expect(judgeOverdue(start, timeout, grace, new Date(now))).toEqual({overdue, overBySeconds: overBy, runningSeconds: overBy + timeout})
  })
})
