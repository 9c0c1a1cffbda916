// doctor's sequence: each check runs once, in the order its inputs become known (kubeconfig → API
// server → where the DB is and how it is reached → RBAC for exactly that → the DB itself → clocks →
// workload → run store), and a check whose input failed is reported as skipped. Nothing here throws
// for a failed check; only an interrupt ends the run early. Everything opened is closed at the end.
import {existsSync, statSync} from 'node:fs'
import {detectSchema} from '../airflow/schema.js'
import {openDriver} from '../airflow/drivers/open.js'
import type {SqlDriver} from '../airflow/drivers/types.js'
import {secretHint} from '../airflow/resolve.js'
import {SqlAirflowDb, queriesFor} from '../airflow/sql-airflow-db.js'
import {type LocatedDb, type ReachedDb, describeSource, describeVia, locateDb, reachDb} from '../cluster-db/index.js'
import {locateGivenDb, parseDbSecretFlag} from '../cluster-db/locate.js'
import {directReach} from '../cluster-db/reach.js'
import {serviceOfHost} from '../cluster-db/service-host.js'
import type {DbOptions} from '../task-source/choice.js'
import type {ApiRule, DbAccess} from '../core/permissions.js'
import {KPO_LABEL_SELECTOR} from '../core/labels.js'
import {DEFAULT_DB_TIMEOUT_SECONDS} from '../core/timeouts.js'
import {UNFINISHED_STATES} from '../core/types.js'
import {ForbiddenError, InterruptedError, UsageError} from '../errors.js'
import {canI} from '../kube/access-review.js'
import {listMetadata} from '../kube/list.js'
import {resolveResource} from '../kube/resources.js'
import {type ClockReading, serverVersion} from '../kube/version.js'
import type {Progress} from '../reap/progress.js'
import {forEachLimited} from '../reap/pool.js'
import {type KubeOptions, type KubeSession, openKube, scopeName} from '../reap/session.js'
import {resolveStorePath} from '../store/location.js'
import {openRunStore} from '../store/run-store.js'
import type {OpenAirflowApiOptions} from '../airflow-api/open.js'
import type {TaskInstanceSource} from '../airflow/types.js'
import {checkAirflowApi} from './airflow-api.js'
import {errorLine} from './error-line.js'
import {type CheckResult, type DoctorFacts, type DoctorReport, doctorReport, emptyFacts} from './report.js'
import {type Profile, permissionResults, permissionTable, profiles, questionsOf, rbacChecks, ruleKey} from './rbac.js'
import {clockCheck, schemaCheck} from './verdicts.js'

export interface DoctorOptions {
  kube: KubeOptions
  db: DbOptions
  store: {flag?: string; noCache: boolean}
  /** The Airflow REST API, when the task instances come from it (--airflow-url): its checks replace the DB's. */
  airflowApi?: Omit<OpenAirflowApiOptions, 'signal'>
}

export interface DoctorDeps {
  progress: Progress
  signal: AbortSignal
  env?: NodeJS.ProcessEnv
}

/** SelfSubjectAccessReviews in flight at once. */
const REVIEW_CONCURRENCY = 8

export async function runDoctor(options: DoctorOptions, deps: DoctorDeps): Promise<DoctorReport> {
  const doctor = new Doctor(options, deps)
  try {
    await doctor.run()
  } finally {
    await doctor.close()
  }
  if (deps.signal.aborted) throw new InterruptedError('interrupted: doctor did not finish its checks')
  return doctorReport(doctor.facts, doctor.checks, new Date())
}

class Doctor {
  readonly checks: CheckResult[] = []
  readonly facts: DoctorFacts = emptyFacts()
  private kube?: KubeSession
  private apiClock?: ClockReading
  private located?: LocatedDb
  private reached?: ReachedDb
  private reachFailed = false
  private driver?: SqlDriver
  private db?: SqlAirflowDb
  /** Where the workload line counts task instances: the DB, or the Airflow API. */
  private taskSource?: TaskInstanceSource

  constructor(
    private readonly options: DoctorOptions,
    private readonly deps: DoctorDeps,
  ) {}

  async run(): Promise<void> {
    const apiUp = this.checkKubeconfig() && (await this.step('asking the API server its version', () => this.checkApiServer()))
    if (this.options.airflowApi) return this.runWithAirflowApi(apiUp, this.options.airflowApi)
    const located = await this.step('finding the Airflow DB', () => this.checkDbSource())
    const reached = located && (await this.step('reaching the Airflow DB', () => this.reachDb()))
    if (apiUp) await this.step('asking the API server about each permission', () => this.checkRbac())
    else this.skip('rbac', 'the API server could not be reached')
    const connected = reached && (await this.step('connecting to the Airflow DB', () => this.checkConnection()))
    if (!located) this.skip('db-connection', 'no DB URL')
    const schemaOk = connected && (await this.step('reading the schema', () => this.checkSchema()))
    if (!connected) this.skip('db-schema', 'not connected to the DB')
    if (schemaOk) this.taskSource = this.db
    await this.step('comparing clocks', () => this.checkClock(schemaOk ? () => this.dbClock() : undefined))
    await this.step('counting pods and task instances', () => this.checkWorkload(apiUp))
    this.checkStore()
  }

  /** The task instances come from the Airflow API: its checks stand where the DB's would. */
  private async runWithAirflowApi(apiUp: boolean, options: Omit<OpenAirflowApiOptions, 'signal'>): Promise<void> {
    const why = 'the task instances come from the Airflow API (--airflow-url)'
    for (const check of ['db-source', 'db-connection', 'db-schema'] as const) this.skip(check, why)
    if (apiUp) await this.step('asking the API server about each permission', () => this.checkRbac())
    else this.skip('rbac', 'the API server could not be reached')
    const airflow = await this.step('checking the Airflow API', () => checkAirflowApi(options, this.deps.signal))
    if (!airflow) return
    for (const check of airflow.checks) this.add(check)
    this.facts.airflowApi = airflow.facts
    this.taskSource = airflow.source
    await this.step('comparing clocks', () => this.checkClock(airflow.clock ? async () => dateHeaderOffset(airflow.clock!) : undefined, 'Airflow API'))
    await this.step('counting pods and task instances', () => this.checkWorkload(apiUp))
    this.checkStore()
  }

  /** The DB's now() against this machine's, measured around the query. */
  private async dbClock(): Promise<{offsetMs: number; uncertaintyMs: number}> {
    const sent = Date.now()
    const dbNow = await this.db!.now()
    const received = Date.now()
    return {offsetMs: dbNow.getTime() - (sent + received) / 2, uncertaintyMs: (received - sent) / 2}
  }

  async close(): Promise<void> {
    await Promise.allSettled([this.db?.close() ?? this.driver?.close(), this.reached?.close()])
    this.kube?.client.close()
  }

  /** Runs one step; an interrupt stops everything, anything else it throws is a bug reported as a failure. */
  private async step<T>(what: string, work: () => Promise<T>): Promise<T | false> {
    if (this.deps.signal.aborted) return false
    this.deps.progress.update(what)
    return work()
  }

  private add(check: CheckResult): void {
    this.checks.push(check)
  }

  private skip(check: CheckResult['check'], why: string): void {
    this.add({check, status: 'skip', message: `not checked: ${why}`})
  }

  private abortedBy(error: unknown): boolean {
    return this.deps.signal.aborted || error instanceof InterruptedError
  }

  private checkKubeconfig(): boolean {
    try {
      // Every request is bounded by --request-timeout (default DEFAULT_REQUEST_TIMEOUT_SECONDS).
      this.kube = openKube(this.options.kube)
    } catch (error) {
      const message = errorLine(error)
      if (/^(no kubeconfig|kubeconfig |cannot read kubeconfig)/.test(message)) {
        this.add({check: 'kubeconfig', status: 'fail', message, fix: 'pass --kubeconfig PATH or set KUBECONFIG (`kubectl config view` shows what kubectl reads)'})
        this.skip('context', 'no kubeconfig')
      } else {
        this.add({check: 'kubeconfig', status: 'ok', message: 'read'})
        this.add({check: 'context', status: 'fail', message, fix: 'pass --context NAME (`kubectl config get-contexts` lists them)'})
      }
      this.skip('api-server', 'no usable context')
      return false
    }
    const {target} = this.kube
    this.facts.context = target.contextName
    this.facts.server = target.server
    this.facts.namespace = scopeName(this.kube)
    const read = target.inCluster ? `in-cluster service account (${target.sources.join(', ')})` : target.sources.join(', ')
    this.add({check: 'kubeconfig', status: 'ok', message: read})
    const scope = this.kube.namespace === undefined ? 'every namespace (-A)' : `namespace "${this.kube.namespace}"`
    this.add({check: 'context', status: 'ok', message: `"${target.contextName}": ${target.server}, ${scope}`})
    return true
  }

  private async checkApiServer(): Promise<boolean> {
    const {client, target} = this.kube!
    try {
      const {version, clock} = await serverVersion(client, this.deps.signal)
      this.apiClock = clock
      this.facts.serverVersion = version.gitVersion
      this.add({check: 'api-server', status: 'ok', message: `Kubernetes ${version.gitVersion} at ${target.server}`})
      return true
    } catch (error) {
      if (this.abortedBy(error)) return false
      this.add({
        check: 'api-server',
        status: 'fail',
        message: errorLine(error),
        fix: 'check the network (VPN, proxy) and the credentials of the context: `kubectl version` must work from here',
      })
      return false
    }
  }

  private async checkDbSource(): Promise<boolean> {
    const {db} = this.options
    try {
      if (this.kube) {
        this.located = await locateDb(
          {db: db.db, airflowNamespace: db.airflowNamespace, dbSecret: db.dbSecret, env: this.deps.env, timeoutSeconds: db.timeoutSeconds},
          this.kube,
          this.deps.signal,
        )
      } else {
        // No cluster: only a URL given here can be checked.
        const given = await locateGivenDb({db: db.db, env: this.deps.env, timeoutSeconds: db.timeoutSeconds}, '', this.deps.signal)
        if (!given) {
          throw new UsageError(`no DB URL given (--db, AIRFLOW_REAP_DB, AIRFLOW__DATABASE__SQL_ALCHEMY_CONN) and no cluster to find it in${secretHint(this.deps.env ?? process.env)}`)
        }
        this.located = given
      }
    } catch (error) {
      if (this.abortedBy(error)) return false
      this.add({check: 'db-source', status: 'fail', message: errorLine(error), fix: locateFix(error)})
      return false
    }
    this.facts.db.source = describeSource(this.located.source)
    this.facts.db.dialect = this.located.url.dialect
    this.add({check: 'db-source', status: 'ok', message: `${this.facts.db.source}: ${this.located.url.redacted}`})
    return true
  }

  private async reachDb(): Promise<boolean> {
    const located = this.located!
    if (!this.kube) {
      this.reached = directReach(located.url)
      return true
    }
    try {
      this.reached = await reachDb(located, this.kube, {portForward: this.options.db.portForward}, this.deps.signal)
      return true
    } catch (error) {
      if (this.abortedBy(error)) return false
      this.reachFailed = true
      this.add({
        check: 'db-connection',
        status: 'fail',
        message: errorLine(error),
        fix: 'the port-forward needs a ready pod behind the DB Service and the RBAC listed under rbac; or pass --db with a URL reachable from here',
      })
      return false
    }
  }

  /** How the commands will reach the DB with these flags: the Secret rules, and the port-forward's when one is used. */
  private dbAccess(): DbAccess | undefined {
    const {db} = this.options
    const source = this.located?.source
    // The API source reads no Secret and forwards no port.
    if (this.options.airflowApi) return undefined
    const fromCluster = source ? source.kind === 'secret' || source.kind === 'pod-template' : db.db === undefined
    const access: DbAccess = {}
    if (fromCluster) {
      const namespace = db.airflowNamespace || this.kube!.target.namespace
      const secretName = db.dbSecret === undefined ? undefined : parseDbSecretFlag(db.dbSecret).name
      access.secret = secretName ? {namespace, name: secretName} : {namespace}
    }
    // Whatever gave the URL (a Secret, --db, the environment), a Service host is reached through a
    // port-forward. reachDb fails only on the way to one: then the commands would take that way too.
    const service = this.located && serviceOfHost(this.located.url.host, this.located.namespace)
    const via = this.reached?.via
    if (via?.kind === 'port-forward' || (this.reachFailed && service)) {
      access.portForward = {namespace: service ? service.namespace : this.located!.namespace, ...(service ? {service: service.name} : {})}
    }
    return access.secret || access.portForward ? access : undefined
  }

  private profiles(): Profile[] {
    const unstickTargets = ['jobs', 'pods'].map((type) => ({resource: resolveResource(type)}))
    return profiles({namespace: this.kube!.namespace, db: this.dbAccess(), unstickTargets})
  }

  private async checkRbac(): Promise<void> {
    const all = this.profiles()
    const rules = permissionTable(all).map((row) => row.rule)
    const answers = new Map<string, boolean>()
    let failure: string | undefined
    await forEachLimited(
      rules,
      REVIEW_CONCURRENCY,
      async (rule) => {
        try {
          const decisions = await Promise.all(questionsOf(rule).map((q) => canI(this.kube!.client, q, this.deps.signal)))
          answers.set(ruleKey(rule), decisions.every((d) => d.allowed))
        } catch (error) {
          if (!this.abortedBy(error)) failure ??= errorLine(error)
        }
      },
      this.deps.signal,
    )
    const allowed = (rule: ApiRule) => answers.get(ruleKey(rule)) ?? null
    this.facts.permissions = permissionResults(all, allowed)
    if (failure) {
      this.add({check: 'rbac', status: 'fail', message: `cannot ask the API server (SelfSubjectAccessReview): ${failure}`, fix: 'check that `kubectl auth can-i list pods` works'})
      return
    }
    for (const check of rbacChecks(all, (rule) => allowed(rule) === true)) this.add(check)
  }

  private async checkConnection(): Promise<boolean> {
    const reached = this.reached!
    const via = describeVia(reached.via)
    this.facts.db.via = via
    const started = performance.now()
    try {
      // --db-timeout bounds the connect and each query; the signal ends them on Ctrl-C.
      const timeoutMs = (this.options.db.timeoutSeconds ?? DEFAULT_DB_TIMEOUT_SECONDS) * 1000
      this.driver = await openDriver(reached.url, {timeoutMs, signal: this.deps.signal})
      await this.driver.query('SELECT 1 AS one')
    } catch (error) {
      if (this.abortedBy(error)) return false
      const cause = reached.lost.aborted ? reached.lost.reason : error
      this.add({
        check: 'db-connection',
        status: 'fail',
        message: `via ${via}: ${errorLine(cause)}`,
        fix:
          reached.via.kind === 'direct'
            ? 'check that the DB host is reachable from here and the credentials are right; a Service host can be reached with --port-forward always'
            : 'check that the DB pod accepts connections on that port and the credentials are right',
      })
      return false
    }
    const ms = Math.round(performance.now() - started)
    this.add({check: 'db-connection', status: 'ok', message: `connected via ${via} in ${ms} ms`})
    return true
  }

  private async checkSchema(): Promise<boolean> {
    const driver = this.driver!
    try {
      const schema = await detectSchema(driver, this.reached!.url)
      this.db = new SqlAirflowDb(driver, schema, await queriesFor(driver))
      const {airflowVersion, ...check} = schemaCheck({family: schema.family, revision: schema.revision, dialect: schema.dialect})
      this.facts.db.schemaFamily = schema.family
      this.facts.db.alembicRevision = schema.revision ?? null
      this.facts.db.airflowVersion = airflowVersion ?? null
      this.add(check)
      return true
    } catch (error) {
      if (this.abortedBy(error)) return false
      this.add({check: 'db-schema', status: 'fail', message: errorLine(error), fix: 'point --db (or --db-secret) at the metadata DB of Airflow 2.7 … 3.3'})
      return false
    }
  }

  /** `airflowClock`: Airflow's clock (the DB's, or the Airflow API's Date header) against this machine's. */
  private async checkClock(airflowClock?: () => Promise<{offsetMs: number; uncertaintyMs: number}>, airflowName: 'DB' | 'Airflow API' = 'DB'): Promise<void> {
    let apiServerMs: number | undefined
    let dbMs: number | undefined
    let uncertaintyMs = 0
    const api = this.apiClock
    if (api?.serverTime) {
      const reading = dateHeaderOffset({serverTime: api.serverTime, sentAt: api.sentAt, receivedAt: api.receivedAt})
      apiServerMs = reading.offsetMs
      uncertaintyMs = reading.uncertaintyMs
    }
    if (airflowClock) {
      try {
        const reading = await airflowClock()
        dbMs = reading.offsetMs
        uncertaintyMs = Math.max(uncertaintyMs, reading.uncertaintyMs)
      } catch (error) {
        if (this.abortedBy(error)) return
      }
    }
    this.facts.clock.apiServerOffsetSeconds = apiServerMs === undefined ? null : round(apiServerMs / 1000)
    const airflowSeconds = dbMs === undefined ? null : round(dbMs / 1000)
    if (airflowName === 'DB') this.facts.clock.dbOffsetSeconds = airflowSeconds
    else this.facts.clock.airflowApiOffsetSeconds = airflowSeconds
    this.add(clockCheck({apiServerMs, dbMs, uncertaintyMs, airflowClock: airflowName}))
  }

  private async checkWorkload(apiUp: boolean): Promise<void> {
    const parts: string[] = []
    const problems: string[] = []
    if (apiUp) {
      try {
        const pods = await listMetadata(this.kube!.client, {
          resource: resolveResource('pods'),
          namespace: this.kube!.namespace,
          labelSelector: KPO_LABEL_SELECTOR,
          signal: this.deps.signal,
        })
        this.facts.workload.kpoPods = pods.length
        const where = this.kube!.namespace === undefined ? 'in every namespace' : `in namespace "${this.kube!.namespace}"`
        parts.push(`${pods.length} KubernetesPodOperator pods ${where}`)
      } catch (error) {
        if (this.abortedBy(error)) return
        problems.push(`pods: ${errorLine(error)}`)
      }
    }
    if (this.taskSource) {
      try {
        const counts = await this.taskSource.taskInstanceStateCounts(UNFINISHED_STATES)
        const byState = Object.fromEntries(UNFINISHED_STATES.filter((s) => counts.has(s)).map((s) => [s, counts.get(s)!]))
        this.facts.workload.taskInstances = byState
        const total = Object.values(byState).reduce((a, b) => a + b, 0)
        const detail = Object.entries(byState).map(([state, n]) => `${state} ${n}`).join(', ')
        parts.push(`${total} unfinished task instances${detail ? ` (${detail})` : ''}`)
      } catch (error) {
        if (this.abortedBy(error)) return
        problems.push(`task instances: ${errorLine(error)}`)
      }
    }
    if (problems.length > 0) {
      this.add({check: 'workload', status: 'fail', message: [...parts, ...problems].join('; '), fix: 'see the rbac and db lines above'})
    } else if (parts.length === 0) {
      this.skip('workload', `neither the API server nor the ${this.options.airflowApi ? 'Airflow API' : 'DB'} could be read`)
    } else {
      this.add({check: 'workload', status: 'ok', message: parts.join('; ')})
    }
  }

  private checkStore(): void {
    let path: string | null
    try {
      path = resolveStorePath({flag: this.options.store.flag, noCache: this.options.store.noCache, env: this.deps.env})
    } catch (error) {
      this.add({check: 'run-store', status: 'fail', message: errorLine(error)})
      return
    }
    this.facts.store.path = path
    if (path === null) {
      this.add({check: 'run-store', status: 'ok', message: 'off (--no-cache): runs are not recorded here'})
      return
    }
    const existed = existsSync(path)
    try {
      const store = openRunStore(path)
      try {
        this.facts.store.runs = store.countRuns()
      } finally {
        store.close()
      }
      this.facts.store.sizeBytes = statSync(path).size
      const created = existed ? '' : ' (created now)'
      this.add({check: 'run-store', status: 'ok', message: `${path}: writable, ${formatBytes(this.facts.store.sizeBytes)}, ${this.facts.store.runs} runs${created}`})
    } catch (error) {
      this.add({
        check: 'run-store',
        status: 'warn',
        message: errorLine(error),
        fix: 'runs will not be recorded (the commands still run): fix the file, or choose another with --cache PATH, or --no-cache',
      })
    }
  }
}

function locateFix(error: unknown): string {
  if (error instanceof ForbiddenError) return 'grant the permission it names, or pass --db URL (or --db-secret NAME[:KEY], which needs `get` on that one Secret only)'
  if (error instanceof UsageError) return 'pass --db URL, or --db-secret NAME[:KEY] with --airflow-namespace NS where Airflow runs'
  return 'check that the API server can be reached, or pass --db URL'
}

/** A server's Date header against this machine's clock. It is whole seconds, truncated: the server's time was in [D, D + 1 s). */
function dateHeaderOffset(clock: {serverTime: Date; sentAt: Date; receivedAt: Date}): {offsetMs: number; uncertaintyMs: number} {
  const rtt = clock.receivedAt.getTime() - clock.sentAt.getTime()
  return {offsetMs: clock.serverTime.getTime() + 500 - (clock.sentAt.getTime() + rtt / 2), uncertaintyMs: rtt / 2 + 500}
}

function round(n: number): number {
  return Math.round(n * 10) / 10
}

function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`
}
