// doctor with no DB flag against a Helm-shaped namespace: the URL found in the chart's Secret, the DB
// (real PostgreSQL) reached through the fake's port-forward, and RBAC enforced by the fake with exactly
// the rules core/permissions.ts lists for that path, so a rule missing from the table would show here.
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {afterAll, beforeAll, describe, expect, it, vi} from 'vitest'
import {parseDbUrl} from '../../src/airflow/url.js'
import {type PermissionQuery, policyRulesByNamespace, requiredRules} from '../../src/core/permissions.js'
import type {CheckResult, DoctorReport} from '../../src/doctor/report.js'
import {type TestAirflowDb, createPostgresAirflowDb} from '../support/airflow-db/index.js'
import {runCli} from '../support/cli.js'
import {assertValidDoctorReport} from '../support/contract.js'
import {type FakeKube, type FakeRole, startFakeKube} from '../support/fake-kube/index.js'
import {type HelmAirflow, addHelmAirflow} from '../support/helm-airflow.js'

// Each test runs the built CLI once to three times; on a loaded machine one run can take 10 s.
vi.setConfig({testTimeout: 120_000, hookTimeout: 120_000})

const NS = 'airflow'
const SECRET = 'pg-Secr3t-in-cluster'

let kube: FakeKube
let db: TestAirflowDb
let helm: HelmAirflow
let dir: string
let env: Record<string, string>

beforeAll(async () => {
  kube = await startFakeKube()
  db = await createPostgresAirflowDb('3.x', {password: SECRET})
  const url = parseDbUrl(db.url, 'test')
  // The chart's URL names the PgBouncer Service; the fake forwards its pod's 6543 to the real server.
  const connection = `postgresql://${url.user}:${SECRET}@airflow-pgbouncer.${NS}:6543/${url.database}?sslmode=disable`
  helm = addHelmAirflow(kube, {namespace: NS, connection, pgbouncer: {localPort: url.port ?? 5432}})
  await db.seed.taskInstance({dagId: 'etl', taskId: 't', runId: 'r', state: 'running', tryNumber: 1})
  dir = mkdtempSync(path.join(tmpdir(), 'reap-doctor-cluster-'))
  const kubeconfig = kube.writeKubeconfig(path.join(dir, 'kubeconfig'), {contexts: [{name: 'prod', namespace: NS}]})
  env = {KUBECONFIG: kubeconfig, HOME: dir}
})

afterAll(async () => {
  await kube?.close()
  await db?.drop()
  rmSync(dir, {recursive: true, force: true})
})

async function doctor(args: string[] = []): Promise<{code: number | null; report: DoctorReport; stdout: string}> {
  const result = await runCli(['doctor', '-o', 'json', '--no-cache', ...args], {env})
  const report = JSON.parse(result.stdout) as DoctorReport
  assertValidDoctorReport(report)
  expect(result.stdout + result.stderr).not.toContain(SECRET)
  return {code: result.code, report, stdout: result.stdout}
}

function check(report: DoctorReport, name: CheckResult['check'], subject?: string): CheckResult {
  return report.checks.find((c) => c.check === name && c.subject === subject)!
}

function rolesFor(...queries: PermissionQuery[]): FakeRole[] {
  return policyRulesByNamespace(queries.flatMap((q) => requiredRules(q))).map(({namespace, rules}) => ({name: 'airflow-reap', namespace, rules}))
}

const DISCOVERED = {secret: {namespace: NS}, portForward: {namespace: NS, service: 'airflow-pgbouncer'}}

describe('doctor, no DB flag', () => {
  it('finds the Secret, reaches PostgreSQL through the port-forward, all ok', async () => {
    const {code, report} = await doctor()
    expect(report.checks.filter((c) => c.status !== 'ok')).toEqual([])
    expect(code).toBe(0)
    expect(report.db).toMatchObject({
      source: `secret ${NS}/${helm.secretName}:connection`,
      via: `port-forward pod/${helm.pgbouncerPod}:6543`,
      dialect: 'postgresql',
      schemaFamily: 'airflow-3',
    })
    expect(check(report, 'db-source').message).toMatch(new RegExp(`^secret ${NS}/${helm.secretName}:connection: postgresql://[^:]+:\\*\\*\\*@airflow-pgbouncer\\.${NS}:6543/`))
    expect(report.workload.taskInstances).toEqual({running: 1})
    // The port-forward's permissions are asked about, in the DB Service's namespace.
    const portforward = report.permissions.filter((p) => p.subresource === 'portforward').map((p) => [p.verb, p.namespace, p.allowed])
    expect(portforward).toEqual([
      ['get', NS, true],
      ['create', NS, true],
    ])
  })

  it('with exactly the Role the table gives doctor and the reports, everything they need is there', async () => {
    kube.enforceRbac(rolesFor({command: 'doctor', namespace: NS, db: DISCOVERED}, {command: 'zombies', namespace: NS, db: DISCOVERED}))
    try {
      const {code, report} = await doctor()
      expect(code).toBe(0)
      for (const line of ['doctor', 'zombies', 'overdue']) expect(check(report, 'rbac', line).status).toBe('ok')
      expect(check(report, 'db-connection').status).toBe('ok')
      expect(check(report, 'rbac', 'zombies --delete --yes').status).toBe('warn')
    } finally {
      kube.stopRbac()
    }
  })

  it('--db-secret NAME: a Role with get on that one Secret (resourceNames) and no discovery is enough', async () => {
    const named = {secret: {namespace: NS, name: helm.secretName}, portForward: DISCOVERED.portForward}
    kube.enforceRbac(rolesFor({command: 'doctor', namespace: NS, db: named}, {command: 'zombies', namespace: NS, db: named}))
    try {
      const {code, report} = await doctor(['--db-secret', helm.secretName])
      expect(report.checks.filter((c) => c.check !== 'rbac' && c.status !== 'ok')).toEqual([])
      expect(code).toBe(0)
      expect(report.permissions.find((p) => p.resource === 'secrets')).toMatchObject({verb: 'get', resourceNames: [helm.secretName], allowed: true})
      expect(report.permissions.some((p) => p.resource === 'deployments')).toBe(false)
      // Without the flag the same Role lacks what discovery lists: doctor says so.
      const {report: discovered} = await doctor()
      expect(check(discovered, 'db-source').message).toMatch(/needs "list deployments.apps"/)
    } finally {
      kube.stopRbac()
    }
  })

  it('--db naming the Service: no Secret is read, but the port-forward it takes is asked about', async () => {
    const url = parseDbUrl(db.url, 'test')
    const {report} = await doctor(['--db', `postgresql://${url.user}:${SECRET}@airflow-pgbouncer.${NS}:6543/${url.database}?sslmode=disable`])
    expect(report.db).toMatchObject({source: 'flag', via: `port-forward pod/${helm.pgbouncerPod}:6543`})
    expect(report.permissions.some((p) => p.resource === 'secrets')).toBe(false)
    const portforward = report.permissions.filter((p) => p.subresource === 'portforward').map((p) => [p.verb, p.namespace, p.allowed])
    expect(portforward).toEqual([
      ['get', NS, true],
      ['create', NS, true],
    ])
  })

  it('without create on pods/portforward: the connection fails naming it, and so does the RBAC line', async () => {
    const roles = rolesFor({command: 'doctor', namespace: NS, db: DISCOVERED}).map((role) => ({
      ...role,
      rules: role.rules.map((rule) => (rule.resources[0] === 'pods/portforward' ? {...rule, verbs: ['get']} : rule)),
    }))
    kube.enforceRbac(roles)
    try {
      const {code, report} = await doctor()
      expect(code).toBe(1)
      expect(check(report, 'rbac', 'doctor')).toMatchObject({status: 'fail', message: `missing: create pods/portforward in namespace "${NS}"`})
      expect(check(report, 'db-connection').status).toBe('fail')
      expect(check(report, 'db-connection').message).toMatch(/pods\/portforward/)
    } finally {
      kube.stopRbac()
    }
  })

  it('without get on secrets: db-source fails naming "get secrets", the rest still runs', async () => {
    kube.deny({verb: 'get', resource: 'secrets', namespace: NS})
    const {code, report} = await doctor()
    expect(code).toBe(1)
    expect(check(report, 'db-source').status).toBe('fail')
    expect(check(report, 'db-source').message).toMatch(/finding the Airflow DB needs "get secrets" in namespace "airflow"/)
    expect(check(report, 'db-source').fix).toMatch(/--db-secret NAME\[:KEY\]/)
    expect(check(report, 'rbac', 'doctor')).toMatchObject({status: 'fail', message: `missing: get secrets in namespace "${NS}"`})
    expect(check(report, 'db-connection').status).toBe('skip')
    expect(check(report, 'workload').status).toBe('ok')
  })
})
