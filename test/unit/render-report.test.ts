// How reports read, as kubectl prints its own: -o name, table columns and cells, the summary line,
// "No resources found", the unstick advice lines, and which items --exit-code counts.
import {describe, expect, it} from 'vitest'
import {type Report, type ReportItem, isActionable, isLeftInPlace, summarize} from '../../src/core/report.js'
import {exitCodeFor} from '../../src/reap/run.js'
import {kubectlName, nothingFoundNotice, renderReport, summaryLine} from '../../src/render/report.js'
import {MAX_ADVICE_LINES, adviceLines} from '../../src/render/unstick-advice.js'

function item(overrides: Partial<ReportItem> = {}): ReportItem {
  return {
    kind: 'Pod',
    namespace: 'airflow',
    name: 'p',
    uid: 'u',
    phase: 'Running',
    ageSeconds: 3600,
    reason: 'no-active-task-instance',
    detail: 'no active task instance',
    taskInstance: {dagId: 'etl', taskId: 'load', runId: 'r1', mapIndex: -1, tryNumber: 1, state: 'success'},
    action: 'none',
    ...overrides,
  }
}

function report(items: ReportItem[], overrides: Partial<Report> = {}): Report {
  return {
    apiVersion: 'airflow-reap/v1',
    kind: 'ZombieReport',
    runId: 1,
    context: 'prod',
    generatedAt: '2026-11-30T00:00:00Z',
    dryRun: true,
    summary: summarize(10, items),
    items,
    ...overrides,
  }
}

const kept = item({name: 'kept', action: 'skipped', skipReason: 'keep-annotation'})
const young = item({name: 'young', action: 'skipped', skipReason: 'too-young'})

describe('-o name', () => {
  it.each([
    ['Pod', 'pod/x'],
    ['Job', 'job.batch/x'],
    ['CronJob', 'cronjob.batch/x'],
    ['Deployment', 'deployment.apps/x'],
    ['ReplicaSet', 'replicaset.apps/x'],
    ['StatefulSet', 'statefulset.apps/x'],
  ])('%s → %s (kubectl get -o name)', (kind, expected) => {
    expect(kubectlName({kind, name: 'x'})).toBe(expected)
  })

  it('prints acted-on and to-act-on items only, never a skipped one, without the namespace', () => {
    const items = [item({name: 'a'}), item({name: 'b', action: 'deleted'}), item({name: 'c', action: 'failed', error: 'boom'}), kept, young]
    expect(renderReport(report(items), 'name', {allNamespaces: true})).toBe('pod/a\npod/b\npod/c\n')
  })

  it.each([
    ['none', undefined, true, true],
    ['deleted', undefined, true, false],
    ['patched', undefined, true, false],
    ['failed', undefined, true, true],
    ['skipped', 'keep-annotation', false, false],
    ['skipped', 'too-young', false, false],
    ['skipped', 'unknown-dag-run', false, false],
    ['skipped', 'max-deletes', false, false],
    ['skipped', 'changed-concurrently', false, false],
    ['unknown', undefined, true, true],
  ] as const)('action %s (%s): actionable %s, left in place %s', (action, skipReason, actionable, leftInPlace) => {
    const subject = item({action, skipReason})
    expect(isActionable(subject)).toBe(actionable)
    expect(isLeftInPlace(subject)).toBe(leftInPlace)
  })

  it('--exit-code: 3 only when something it would act on is left; a kept pod alone exits 0', () => {
    expect(exitCodeFor(report([kept, young]), true)).toBe(0)
    expect(exitCodeFor(report([kept, item()]), true)).toBe(3)
    expect(exitCodeFor(report([item({action: 'deleted'})], {dryRun: false}), true)).toBe(0)
    expect(exitCodeFor(report([item()]), false)).toBe(0)
  })
})

describe('tables', () => {
  it('one namespace: no NAMESPACE column; -A: NAMESPACE first', () => {
    const one = renderReport(report([item()]), 'table', {allNamespaces: false}).split('\n')
    expect(one[0]).toBe('NAME   AGE   PHASE     REASON                    ACTION')
    expect(one[1]).toBe('p      60m   Running   no-active-task-instance   none')
    const all = renderReport(report([item()]), 'table', {allNamespaces: true}).split('\n')
    expect(all[0]).toMatch(/^NAMESPACE\s+NAME\s+AGE/)
    expect(all[1]).toMatch(/^airflow\s+p\s+60m/)
  })

  it('empty cells are <none>; an unmapped task has no map index; a mapped one shows it', () => {
    const rows = renderReport(
      report([item({name: 'a', phase: undefined, taskInstance: null, detail: ''}), item({name: 'b', taskInstance: {dagId: 'd', taskId: 't', runId: 'r', mapIndex: 3, tryNumber: 2, state: null}})]),
      'wide',
      {allNamespaces: false},
    ).split('\n')
    expect(rows[0]).toMatch(/^NAME\s+AGE\s+PHASE\s+REASON\s+ACTION\s+DAG\s+TASK\s+RUN\s+MAP\s+TRY\s+STATE\s+DETAIL$/)
    expect(rows[1].split(/\s{2,}/)).toEqual(['a', '60m', '<none>', 'no-active-task-instance', 'none', '<none>', '<none>', '<none>', '<none>', '<none>', '<none>', '<none>'])
    expect(rows[2].split(/\s{2,}/)).toEqual(['b', '60m', 'Running', 'no-active-task-instance', 'none', 'd', 't', 'r', '3', '2', '<none>', 'no active task instance'])
    expect(renderReport(report([item()]), 'wide', {allNamespaces: false})).not.toMatch(/-1/)
  })

  it('unstick -o wide has no task columns (Jobs have no task instance) and names objects as kubectl does', () => {
    const job = item({kind: 'Job', name: 'export', phase: undefined, reason: 'stuck-terminating', taskInstance: null, detail: 'terminating for 1h'})
    const lines = renderReport(report([job], {kind: 'UnstickReport'}), 'wide', {allNamespaces: false}).split('\n')
    expect(lines[0]).toMatch(/^NAME\s+AGE\s+PHASE\s+REASON\s+ACTION\s+DETAIL$/)
    expect(lines[1]).toMatch(/^job\.batch\/export\s+60m\s+<none>\s+stuck-terminating\s+none\s+terminating for 1h$/)
  })

  it('nothing found: no table, no summary on stdout', () => {
    expect(renderReport(report([]), 'table', {allNamespaces: false})).toBe('')
  })
})

describe('found', () => {
  it('is the contract\'s one definition: items acted on or to act on; skipped ones are counted apart', () => {
    const items = [item(), item({action: 'deleted'}), item({action: 'failed', error: 'x'}), item({action: 'unknown', error: 'y'}), kept, young]
    expect(summarize(10, items)).toEqual({scanned: 10, found: 4, acted: 1, failed: 1, skipped: 2, unknown: 1})
    expect(summaryLine(report(items, {dryRun: false}))).toMatch(/^4 zombie pods found among 10 scanned; 2 skipped/)
  })
})

describe('summary line', () => {
  it.each([
    [[item()], true, 'ZombieReport', '1 zombie pod found among 10 scanned; dry run: nothing changed (add --delete --yes to delete them)'],
    [[item(), item(), kept, young, kept], true, 'OverdueReport', '2 overdue pods found among 10 scanned; 3 skipped (2 keep-annotation, 1 too-young); dry run: nothing changed (add --delete --yes to delete them)'],
    [[kept], true, 'ZombieReport', '0 zombie pods found among 10 scanned; 1 skipped (1 keep-annotation)'],
    [[item({kind: 'Job', reason: 'stuck-terminating'})], true, 'UnstickReport', '1 stuck object found among 10 scanned; dry run: nothing changed (add --yes to remove their finalizers)'],
    [[item({action: 'deleted'}), item({action: 'failed', error: 'x'})], false, 'ZombieReport', '2 zombie pods found among 10 scanned; 1 deleted; 1 failed'],
    [[item({action: 'patched'}), item({action: 'deleted'})], false, 'UnstickReport', '2 stuck objects found among 10 scanned; 1 patched; 1 dependent deleted'],
    // One definition of found (the contract's): acted on or to act on, in the text as in summary.found.
    [[item({action: 'deleted'}), kept], false, 'ZombieReport', '1 zombie pod found among 10 scanned; 1 skipped (1 keep-annotation); 1 deleted'],
  ] as const)('%#: %s', (items, dryRun, kind, expected) => {
    expect(summaryLine(report([...items], {dryRun, kind}))).toBe(`${expected}\n`)
  })

  it('--dry-run=none without --yes: nothing changed, not called a dry run', () => {
    expect(summaryLine(report([item()], {dryRun: true, kind: 'UnstickReport'}), false, true)).toBe('1 stuck object found among 10 scanned; nothing changed (add --yes to remove their finalizers)\n')
  })

  // --dry-run=server stays a dry run whatever else is given: the hint says what acts instead.
  it.each([
    [
      [item(), item(), item({action: 'failed', error: 'pods "a" is forbidden'})],
      'ZombieReport',
      '3 zombie pods found among 10 scanned; server dry run: the API server would accept 2 deletes; 1 refused; nothing changed (run it with --delete --yes and without --dry-run=server to delete them)',
    ],
    [
      [item({kind: 'Job', reason: 'stuck-terminating'})],
      'UnstickReport',
      '1 stuck object found among 10 scanned; server dry run: the API server would accept 1 patch; nothing changed (run it with --yes and without --dry-run=server to remove their finalizers)',
    ],
    [
      [item({kind: 'Job', reason: 'stuck-terminating'}), item({kind: 'Job', reason: 'stuck-terminating'}), item({kind: 'Job', reason: 'stuck-terminating'})],
      'UnstickReport',
      '3 stuck objects found among 10 scanned; server dry run: the API server would accept 3 patches; nothing changed (run it with --yes and without --dry-run=server to remove their finalizers)',
    ],
    [[kept], 'OverdueReport', '0 overdue pods found among 10 scanned; 1 skipped (1 keep-annotation)'],
  ] as const)('server dry run %#: %s', (items, kind, expected) => {
    expect(summaryLine(report([...items], {dryRun: true, kind}), true)).toBe(`${expected}\n`)
  })
})

describe('No resources found', () => {
  it.each([
    ['table', 'airflow', undefined, 'No resources found in airflow namespace.\n'],
    ['wide', undefined, undefined, 'No resources found\n'],
    ['name', 'airflow', true, 'No resources found in airflow namespace.\n'],
    ['table', 'airflwo', false, 'No resources found in airflwo namespace.\nhint: namespace "airflwo" does not exist (kubectl get namespaces lists them)\n'],
    ['json', 'airflow', false, ''],
    ['yaml', 'airflow', false, ''],
  ] as const)('%s in %s (exists: %s)', (format, namespace, exists, expected) => {
    expect(nothingFoundNotice(report([]), format, namespace, exists)).toBe(expected)
  })

  it('is not printed when something was found; -o name counts only what it prints', () => {
    expect(nothingFoundNotice(report([kept]), 'table', 'airflow')).toBe('')
    expect(nothingFoundNotice(report([kept]), 'name', 'airflow')).toBe('No resources found in airflow namespace.\n')
  })
})

describe('unstick advice lines', () => {
  const finding = (name: string, action: ReportItem['action'], advice: string[]) => ({object: {kind: 'Job', namespace: 'ns', name}, item: {action}, advice})

  it('one line per object still stuck, advisories joined; none for a freed object', () => {
    const text = adviceLines([finding('a', 'none', ['one', 'two']), finding('b', 'patched', ['three']), finding('c', 'none', [])], ['job/ns/b'])
    expect(text).toBe('advice: job/ns/a: one; two\njob/ns/b: name is free\n')
  })

  it(`at most ${MAX_ADVICE_LINES} lines, then a count`, () => {
    const many = Array.from({length: MAX_ADVICE_LINES + 3}, (_, i) => finding(`j${i}`, 'none', ['x']))
    const lines = adviceLines(many).trimEnd().split('\n')
    expect(lines).toHaveLength(MAX_ADVICE_LINES + 1)
    expect(lines.at(-1)).toBe('advice: 3 more stuck objects have advice (-o wide shows it)')
  })
})
