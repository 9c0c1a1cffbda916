// The fake's etcd: objects per resource, one global revision bumped by every write (as etcd's is),
// and frozen snapshots behind continue tokens so that paged lists are consistent, as real ones are.

import {randomBytes} from 'node:crypto'
import {clone} from './patch.js'
import {type FakeResource, apiVersionOf} from './resources.js'

export interface FakeMetadata {
  name: string
  namespace: string
  uid: string
  resourceVersion: string
  creationTimestamp: string
  generateName?: string
  generation?: number
  labels?: Record<string, string>
  annotations?: Record<string, string>
  finalizers?: string[]
  ownerReferences?: Record<string, unknown>[]
  deletionTimestamp?: string
  deletionGracePeriodSeconds?: number
  [field: string]: unknown
}

export interface FakeObject {
  apiVersion: string
  kind: string
  metadata: FakeMetadata
  [field: string]: unknown
}

interface Snapshot {
  resourceVersion: string
  items: FakeObject[]
}

/** Kubernetes timestamps are RFC 3339 with whole seconds. */
export function timestamp(date: Date = new Date()): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z')
}

export function objectKey(namespace: string, name: string): string {
  return `${namespace}/${name}`
}

// Code-unit order, like etcd's byte order of keys, and independent of the machine's locale.
function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

function compareObjects(a: FakeObject, b: FakeObject): number {
  return compareStrings(a.metadata.namespace, b.metadata.namespace) || compareStrings(a.metadata.name, b.metadata.name)
}

export class ObjectStore {
  private revision = 1000
  private readonly objects = new Map<string, Map<string, FakeObject>>()
  private readonly snapshots = new Map<string, Snapshot>()
  /** Each resource's objects in key order, kept until the next write to it (a 50k-object sort per list is slow). */
  private readonly ordered = new Map<string, FakeObject[]>()

  get resourceVersion(): string {
    return String(this.revision)
  }

  get(resource: FakeResource, namespace: string, name: string): FakeObject | undefined {
    return this.bucket(resource).get(objectKey(namespace, name))
  }

  /** Every object of the resource (in one namespace or all), ordered by namespace then name. */
  list(resource: FakeResource, namespace?: string): FakeObject[] {
    let all = this.ordered.get(resource.plural)
    if (!all) {
      all = [...this.bucket(resource).values()].sort(compareObjects)
      this.ordered.set(resource.plural, all)
    }
    return namespace === undefined ? [...all] : all.filter((o) => o.metadata.namespace === namespace)
  }

  /** Stores a copy with a new resourceVersion and returns that copy. */
  put(resource: FakeResource, object: FakeObject): FakeObject {
    this.revision++
    const stored = clone(object)
    stored.apiVersion = apiVersionOf(resource)
    stored.kind = resource.kind
    stored.metadata.resourceVersion = String(this.revision)
    this.bucket(resource).set(objectKey(stored.metadata.namespace, stored.metadata.name), stored)
    this.ordered.delete(resource.plural)
    return stored
  }

  remove(resource: FakeResource, namespace: string, name: string): boolean {
    const removed = this.bucket(resource).delete(objectKey(namespace, name))
    if (removed) {
      this.revision++
      this.ordered.delete(resource.plural)
    }
    return removed
  }

  /**
   * Freezes a list result so that its later pages do not see later writes. Returns the snapshot id.
   * Stored objects are never changed in place (every write stores a new copy), so holding the
   * references freezes the list as well as a deep copy would, without copying every object.
   */
  snapshot(items: FakeObject[]): string {
    const id = randomBytes(8).toString('hex')
    this.snapshots.set(id, {resourceVersion: this.resourceVersion, items: [...items]})
    return id
  }

  readSnapshot(id: string): Snapshot | undefined {
    return this.snapshots.get(id)
  }

  /** Like an etcd compaction: every continue token issued so far becomes too old. */
  expireSnapshots(): void {
    this.snapshots.clear()
  }

  private bucket(resource: FakeResource): Map<string, FakeObject> {
    let bucket = this.objects.get(resource.plural)
    if (!bucket) {
      bucket = new Map()
      this.objects.set(resource.plural, bucket)
    }
    return bucket
  }
}
