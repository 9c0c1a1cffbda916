import {describe, expect, it} from 'vitest'
import {runDocument, runListDocument} from '../../src/store/documents.js'
import type {RunRecord, StoredItem} from '../../src/store/types.js'

const finished: RunRecord = {
  runId: 7,
  startedAt: '2026-11-23T10:00:00.000Z',
  finishedAt: '2026-11-23T10:00:09.000Z',
  command: 'zombies',
  argv: ['zombies', '--db', 'postgres://airflow:***@db/airflow', '--yes'],
  context: 'prod-eks',
  server: 'https://kube.example:6443',
  namespace: '*',
  dryRun: true,
  dryRunMode: 'server',
  db: {source: 'secret airflow/airflow-airflow-metadata:connection', via: 'port-forward pod/airflow-pgbouncer-0:6543'},
  source: {kind: 'db', source: 'secret airflow/airflow-airflow-metadata:connection', via: 'port-forward pod/airflow-pgbouncer-0:6543'},
  outcome: 'failed',
  error: 'RBAC: cannot delete pods',
  summary: {scanned: 40, found: 2, acted: 0, failed: 1, skipped: 1, unknown: 0},
}

const {error: _error, ...unfinished} = finished
const running: RunRecord = {...unfinished, runId: 8, finishedAt: null, outcome: 'running', summary: null, dryRun: false, dryRunMode: null}

const items: StoredItem[] = [
  {
    kind: 'Pod',
    namespace: 'airflow',
    name: 'p1',
    uid: 'u1',
    phase: 'Running',
    ageSeconds: 600,
    reason: 'no-active-task-instance',
    detail: 'gone',
    taskInstance: {dagId: 'd', taskId: 't', runId: 'r', mapIndex: -1, tryNumber: 1, state: 'failed'},
    action: 'failed',
    error: 'forbidden',
    actedAt: '2026-11-23T10:00:05.000Z',
  },
  {
    kind: 'Pod',
    namespace: 'airflow',
    name: 'p2',
    uid: 'u2',
    ageSeconds: 30,
    reason: 'stale-try',
    detail: 'old try',
    taskInstance: null,
    action: 'skipped',
    skipReason: 'too-young',
    actedAt: null,
  },
]

describe('runListDocument', () => {
  it('lists runs with the contract fields, in order', () => {
    const doc = runListDocument([running, finished])
    expect(doc).toEqual({
      apiVersion: 'airflow-reap/v1',
      kind: 'RunList',
      items: [
        {
          runId: 8,
          startedAt: '2026-11-23T10:00:00.000Z',
          finishedAt: null,
          command: 'zombies',
          context: 'prod-eks',
          server: 'https://kube.example:6443',
          namespace: '*',
          dryRun: false,
          outcome: 'running',
          summary: null,
        },
        {
          runId: 7,
          startedAt: '2026-11-23T10:00:00.000Z',
          finishedAt: '2026-11-23T10:00:09.000Z',
          command: 'zombies',
          context: 'prod-eks',
          server: 'https://kube.example:6443',
          namespace: '*',
          dryRun: true,
          outcome: 'failed',
          summary: {scanned: 40, found: 2, acted: 0, failed: 1, skipped: 1, unknown: 0},
          error: 'RBAC: cannot delete pods',
        },
      ],
    })
    // Stable key order makes stable JSON and YAML.
    expect(Object.keys(doc.items[1]!)).toEqual([
      'runId', 'startedAt', 'finishedAt', 'command', 'context', 'server', 'namespace', 'dryRun', 'outcome', 'summary', 'error',
    ])
    expect('error' in doc.items[0]!).toBe(false)
  })

  it('is an empty list when nothing was recorded', () => {
    expect(runListDocument([])).toEqual({apiVersion: 'airflow-reap/v1', kind: 'RunList', items: []})
  })
})

describe('runDocument', () => {
  it('carries the run, its argv and every item with actedAt, in contract order', () => {
    const doc = runDocument({run: finished, items})
    expect(doc).toEqual({apiVersion: 'airflow-reap/v1', kind: 'Run', ...finished, items})
    expect(Object.keys(doc)).toEqual([
      'apiVersion', 'kind', 'runId', 'startedAt', 'finishedAt', 'command', 'argv', 'context', 'server', 'namespace',
      'dryRun', 'dryRunMode', 'db', 'source', 'outcome', 'error', 'summary', 'items',
    ])
    expect(Object.keys(doc.items[0]!)).toEqual([
      'kind', 'namespace', 'name', 'uid', 'phase', 'ageSeconds', 'reason', 'detail', 'taskInstance', 'action', 'error', 'actedAt',
    ])
    expect(Object.keys(doc.items[1]!)).toEqual([
      'kind', 'namespace', 'name', 'uid', 'ageSeconds', 'reason', 'detail', 'taskInstance', 'action', 'skipReason', 'actedAt',
    ])
  })

  it('leaves out error and keeps nulls for a run that never finished', () => {
    const doc = runDocument({run: running, items: []})
    expect('error' in doc).toBe(false)
    expect(doc).toMatchObject({finishedAt: null, outcome: 'running', summary: null, dryRunMode: null, items: []})
  })

  it('is plain JSON', () => {
    const doc = runDocument({run: finished, items})
    expect(JSON.parse(JSON.stringify(doc))).toEqual(doc)
  })
})
