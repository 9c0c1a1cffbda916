import {describe, expect, it} from 'vitest'
import {type CheckResult, doctorFailed, doctorReport, emptyFacts} from '../../src/doctor/report.js'
import {renderDoctor, summaryLine} from '../../src/render/doctor.js'
import {assertValidDoctorReport} from '../support/contract.js'

const checks: CheckResult[] = [
  {check: 'run-store', status: 'ok', message: 'off (--no-cache): runs are not recorded here'},
  {check: 'rbac', subject: 'zombies --delete --yes', status: 'warn', message: 'missing: delete pods in namespace "airflow"', fix: 'ask an admin'},
  {check: 'kubeconfig', status: 'ok', message: '/home/me/.kube/config'},
  {check: 'rbac', subject: 'doctor', status: 'ok', message: 'its 1 permission is granted'},
  {check: 'db-connection', status: 'fail', message: 'via direct: ECONNREFUSED', fix: 'check the host'},
  {check: 'db-schema', status: 'skip', message: 'not checked: not connected to the DB'},
]
const report = doctorReport(emptyFacts(), checks, new Date('2026-11-30T12:00:00Z'))

describe('doctorReport', () => {
  it('orders the checks as the contract lists them, keeping the order within a check', () => {
    expect(report.checks.map((c) => c.subject ?? c.check)).toEqual(['kubeconfig', 'zombies --delete --yes', 'doctor', 'db-connection', 'db-schema', 'run-store'])
  })

  it('counts each status; any failure fails the run', () => {
    expect(report.summary).toEqual({ok: 3, warn: 1, fail: 1, skip: 1})
    expect(doctorFailed(report)).toBe(true)
    expect(doctorFailed(doctorReport(emptyFacts(), checks.filter((c) => c.status !== 'fail'), new Date()))).toBe(false)
  })

  it('is a valid DoctorReport even when nothing could be learnt', () => {
    assertValidDoctorReport(JSON.parse(renderDoctor(report, 'json')))
  })
})

describe('renderDoctor table', () => {
  it('one line per check: status, check (and its subject), message → what to do; then the summary', () => {
    expect(renderDoctor(report, 'table')).toBe(
      [
        'STATUS   CHECK                         MESSAGE',
        'ok       kubeconfig                    /home/me/.kube/config',
        'warn     rbac zombies --delete --yes   missing: delete pods in namespace "airflow" → ask an admin',
        'ok       rbac doctor                   its 1 permission is granted',
        'fail     db-connection                 via direct: ECONNREFUSED → check the host',
        'skip     db-schema                     not checked: not connected to the DB',
        'ok       run-store                     off (--no-cache): runs are not recorded here',
        '',
        '3 ok, 1 warning, 1 failure, 1 skipped',
        '',
      ].join('\n'),
    )
  })

  it.each([
    [{ok: 10, warn: 0, fail: 0, skip: 0}, '\n10 ok, 0 warnings, 0 failures\n'],
    [{ok: 1, warn: 2, fail: 2, skip: 3}, '\n1 ok, 2 warnings, 2 failures, 3 skipped\n'],
  ])('summary %j', (summary, line) => {
    expect(summaryLine({...report, summary})).toBe(line)
  })
})
