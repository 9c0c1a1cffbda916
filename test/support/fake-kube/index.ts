// An in-process fake Kubernetes API server for integration tests: HTTPS with the test CA of
// test/support/certs, bearer-token authentication, and the behaviour recorded in
// ../shared/k8s-api-observed/README.md. See FakeKube for what a test can do with it.
//
// Known differences from kube-apiserver, on purpose:
// - no kubelet and no garbage collector: a DELETE removes a pod without finalizers at once even when
//   its deletion is graceful (the answer still shows the deletionTimestamp a real one would carry);
//   orphan/foregroundDeletion finalizers stay until a test or a client removes them, and a pod whose
//   last finalizer is removed while its grace period runs stays Terminating (as on a real cluster until
//   its kubelet finishes; here until a test removes it);
// - namespaces need not exist: objects may be seeded into any namespace, and GET of a namespace finds
//   it when a test added it (addNamespace), when it is built in, or when an object lives in it; no
//   watch; JSON only (no YAML/protobuf) but for server-side apply's YAML body; server-side apply
//   treats lists as atomic and tracks the fields of Apply managers only (apply.ts);
// - strategic merge knows the merge strategy of a few lists only (finalizers, ownerReferences,
//   containers, volumes, env, volumeMounts, conditions); other lists are replaced;
// - field selectors: metadata.name/namespace and a few pod fields; names are not validated, except
//   events.k8s.io/v1 Events, which are validated on create as kube-apiserver does (validation.ts).

import {randomBytes} from 'node:crypto'
import {readFileSync} from 'node:fs'
import https from 'node:https'
import type {AddressInfo} from 'node:net'
import {FakeKubeHandler, type DenyRule, type Injection, type RecordedRequest, type RequestHook, type VersionInfo} from './http.js'
import {writeKubeconfig, type KubeconfigOptions} from './kubeconfig.js'
import {FakeApi, shouldDeleteDuringUpdate} from './operations.js'
import {clone} from './patch.js'
import type {FakeRole, RequestAttributes} from './rbac.js'
import {FakePortForwarder} from './portforward.js'
import {fakeResourceByPlural} from './resources.js'
import {type FakeObject, ObjectStore, timestamp} from './store.js'

export type {DenyRule, Injection, RecordedRequest, RequestHook, VersionInfo} from './http.js'
export {DEFAULT_VERSION} from './http.js'
export type {FakePolicyRule, FakeRole, RequestAttributes} from './rbac.js'
export type {KubeconfigOptions} from './kubeconfig.js'
export type {FakeMetadata, FakeObject} from './store.js'

const CERTS = new URL('../certs/', import.meta.url)

export interface FakeKubeOptions {
  /** Delay added to every answer. */
  latencyMs?: number
  /** The user named in RBAC messages. */
  user?: string
  /** RBAC mode from the start: only what these roles grant is allowed (see enforceRbac). */
  rbac?: FakeRole[]
}

/** What addObject takes: any object with metadata (name, namespace default 'default'). */
export interface SeedObject {
  metadata: Record<string, unknown>
  [field: string]: unknown
}

export interface AddPodOptions {
  namespace: string
  name: string
  labels?: Record<string, string>
  annotations?: Record<string, string>
  creationTimestamp?: Date | string
  /** Default 'Running'. */
  phase?: string
  finalizers?: string[]
  ownerReferences?: Record<string, unknown>[]
  uid?: string
  /** Marks the pod Terminating (as if deleted before the test started). */
  deletionTimestamp?: Date | string
  /** Default 'fake-node'; null leaves the pod unscheduled (deleted at once, grace 0). */
  nodeName?: string | null
  terminationGracePeriodSeconds?: number
  containerStatuses?: Record<string, unknown>[]
}

function asTimestamp(value: Date | string | undefined): string | undefined {
  return value instanceof Date ? timestamp(value) : value
}

export class FakeKube {
  readonly token = randomBytes(16).toString('hex')
  readonly caPem = readFileSync(new URL('ca.pem', CERTS), 'utf8')
  private readonly store = new ObjectStore()
  private readonly api = new FakeApi(this.store)
  private readonly handler: FakeKubeHandler
  private readonly server: https.Server
  /** The pods/portforward WebSocket endpoint: map pod ports to local ports, count or drop connections. */
  readonly portForward = new FakePortForwarder()
  private port = 0

  constructor(options: FakeKubeOptions = {}) {
    const user = options.user ?? 'system:serviceaccount:airflow:airflow-reap'
    this.handler = new FakeKubeHandler(this.api, this.token, user, options.latencyMs ?? 0)
    if (options.rbac) this.enforceRbac(options.rbac)
    const tls = {cert: readFileSync(new URL('server.pem', CERTS)), key: readFileSync(new URL('server-key.pem', CERTS))}
    this.server = https.createServer(tls, (request, response) => {
      this.handler.handle(request, response).catch((error: unknown) => response.destroy(error as Error))
    })
    this.server.on('upgrade', (request, socket, head) => {
      this.handler.handleUpgrade(request, socket, head, this.portForward).catch(() => socket.destroy())
    })
  }

  async listen(): Promise<this> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject)
      this.server.listen(0, '127.0.0.1', () => resolve())
    })
    this.port = (this.server.address() as AddressInfo).port
    return this
  }

  get url(): string {
    return `https://127.0.0.1:${this.port}`
  }

  /** Every request received, oldest first (tests may clear it with `requests.length = 0`). */
  get requests(): RecordedRequest[] {
    return this.handler.requests
  }

  /** Writes a kubeconfig (certificate-authority-data + token) pointing at this server; returns the path. */
  writeKubeconfig(path: string, options: KubeconfigOptions = {}): string {
    return writeKubeconfig(path, {server: this.url, caPem: this.caPem, token: this.token}, options)
  }

  addPod(options: AddPodOptions): FakeObject {
    const spec: Record<string, unknown> = {
      containers: [{name: 'base', image: 'apache/airflow:2.10.5'}],
      restartPolicy: 'Never',
      terminationGracePeriodSeconds: options.terminationGracePeriodSeconds ?? 30,
    }
    const nodeName = options.nodeName === undefined ? 'fake-node' : options.nodeName
    if (nodeName !== null) spec.nodeName = nodeName
    const status: Record<string, unknown> = {phase: options.phase ?? 'Running'}
    if (options.containerStatuses) status.containerStatuses = options.containerStatuses
    return this.addObject('pods', {apiVersion: 'v1', kind: 'Pod', metadata: this.metadataOf(options), spec, status})
  }

  /** Stores an object as given (status, finalizers, deletionTimestamp and all); fills uid, creationTimestamp, resourceVersion. */
  addObject(resource: string, object: SeedObject): FakeObject {
    const copy = clone(object) as unknown as FakeObject
    copy.metadata.namespace ||= 'default'
    return clone(this.api.seed(fakeResourceByPlural(resource), copy))
  }

  getObject(resource: string, namespace: string, name: string): FakeObject | undefined {
    return clone(this.store.get(fakeResourceByPlural(resource), namespace, name))
  }

  /** Every object of a resource, ordered by namespace then name. */
  listObjects(resource: string, namespace?: string): FakeObject[] {
    return clone(this.store.list(fakeResourceByPlural(resource), namespace))
  }

  /**
   * Changes a stored object behind the clients' backs (as a controller would), bumping its
   * resourceVersion; returns the new state. A Terminating object left without finalizers is removed
   * unless its grace period is running (kube-apiserver's ShouldDeleteDuringUpdate).
   */
  updateObject(resource: string, namespace: string, name: string, change: (object: FakeObject) => void): FakeObject {
    const kind = fakeResourceByPlural(resource)
    const stored = this.store.get(kind, namespace, name)
    if (!stored) throw new Error(`fake-kube: no ${resource} ${namespace}/${name}`)
    const copy = clone(stored)
    change(copy)
    // A change that itself marks the object deleted is judged as if the deletion came first.
    const before = stored.metadata.deletionTimestamp === undefined ? copy.metadata : stored.metadata
    if (shouldDeleteDuringUpdate(copy.metadata, before)) {
      this.store.remove(kind, namespace, name)
      return copy
    }
    return clone(this.store.put(kind, copy))
  }

  /** Removes an object at once, finalizers or not (as if a controller had finished with it). */
  removeObject(resource: string, namespace: string, name: string): boolean {
    return this.store.remove(fakeResourceByPlural(resource), namespace, name)
  }

  /** Creates a namespace (one with no objects in it, which GET /api/v1/namespaces/NAME then finds). */
  addNamespace(name: string): void {
    this.handler.namespaces.add(name)
  }

  /** Answers 403 Forbidden, with kube-apiserver's RBAC message, to matching requests. */
  deny(rule: DenyRule): void {
    this.handler.denials.push(rule)
  }

  /**
   * RBAC mode: from now on only what these Roles (with a namespace: bound there by a RoleBinding) and
   * ClusterRoles (no namespace: bound cluster-wide) grant is allowed, and everything else gets
   * kube-apiserver's 403. `/version` and SelfSubjectAccessReviews stay open, as for any
   * authenticated user of a real cluster. Deny rules still apply on top.
   */
  enforceRbac(roles: FakeRole[]): void {
    this.handler.roles = roles.map((role) => ({...role, rules: role.rules.map((rule) => ({...rule}))}))
  }

  /** Adds a Role or ClusterRole to RBAC mode (turning it on with this one grant if it was off). */
  grant(role: FakeRole): void {
    this.handler.roles = [...(this.handler.roles ?? []), role]
  }

  /**
   * Forgets the test-set behaviour (deny rules, injections not yet used, request hooks), for a fake
   * shared by the tests of a file; the objects stay.
   */
  resetBehaviour(): void {
    this.handler.denials.length = 0
    this.handler.injections.length = 0
    this.handler.hooks.length = 0
  }

  /** Back to allowing everything not denied. */
  stopRbac(): void {
    this.handler.roles = undefined
  }

  /**
   * Throws the 403 ApiStatusError kube-apiserver would answer for these request attributes (deny rules
   * and RBAC mode); for handlers outside the request router, such as the port-forward upgrade.
   */
  authorize(attributes: RequestAttributes): void {
    this.handler.authorize(attributes)
  }

  /** The `Date` header of every answer is this far from this machine's clock (negative: behind). */
  setClockSkew(milliseconds: number): void {
    this.handler.clockSkewMs = milliseconds
  }

  /** What GET /version answers. */
  setVersion(version: VersionInfo): void {
    this.handler.version = version
  }

  /** Answers matching requests with a canned response, `times` times (default once). */
  inject(injection: Injection): void {
    this.handler.injections.push({...injection})
  }

  /** Runs before every authenticated request is served; returns a function that removes the hook. */
  beforeRequest(hook: RequestHook): () => void {
    this.handler.hooks.push(hook)
    return () => {
      const index = this.handler.hooks.indexOf(hook)
      if (index >= 0) this.handler.hooks.splice(index, 1)
    }
  }

  /** Every continue token issued so far answers 410 Gone (reason Expired), as after an etcd compaction. */
  expireContinueTokens(): void {
    this.store.expireSnapshots()
  }

  /** A Secret with its values base64-encoded in `data`, as the API stores them. */
  addSecret(namespace: string, name: string, values: Record<string, string>, labels: Record<string, string> = {}): FakeObject {
    const data = Object.fromEntries(Object.entries(values).map(([key, value]) => [key, Buffer.from(value).toString('base64')]))
    return this.addObject('secrets', {apiVersion: 'v1', kind: 'Secret', metadata: {namespace, name, labels}, type: 'Opaque', data})
  }

  async close(): Promise<void> {
    this.portForward.close()
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()))
    this.server.closeAllConnections()
    await closed
  }

  private metadataOf(options: AddPodOptions): Record<string, unknown> {
    const metadata: Record<string, unknown> = {
      namespace: options.namespace,
      name: options.name,
      labels: options.labels ?? {},
      annotations: options.annotations ?? {},
      finalizers: options.finalizers ?? [],
      ownerReferences: options.ownerReferences ?? [],
    }
    if (options.uid) metadata.uid = options.uid
    if (options.creationTimestamp) metadata.creationTimestamp = asTimestamp(options.creationTimestamp)
    if (options.deletionTimestamp) {
      metadata.deletionTimestamp = asTimestamp(options.deletionTimestamp)
      metadata.deletionGracePeriodSeconds = options.terminationGracePeriodSeconds ?? 30
    }
    return metadata
  }
}

export async function startFakeKube(options: FakeKubeOptions = {}): Promise<FakeKube> {
  return new FakeKube(options).listen()
}
