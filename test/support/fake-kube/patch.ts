// The three patch types kube-apiserver accepts for built-in resources: JSON patch (RFC 6902), JSON
// merge patch (RFC 7386: lists are replaced) and strategic merge patch (lists with a patch strategy
// are merged: `{"metadata":{"finalizers":[]}}` removes nothing).

export type Json = null | boolean | number | string | Json[] | {[key: string]: Json}
type JsonObject = {[key: string]: Json}

/** The document was well formed but an operation did not apply (a `test` failed, a path was missing). */
export class PatchNotApplicable extends Error {
  constructor(
    message: string,
    readonly testFailed: boolean,
  ) {
    super(message)
  }
}

/** The patch document itself is malformed (400). */
export class MalformedPatch extends Error {}

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

export function clone<T>(value: T): T {
  return value === undefined ? value : (JSON.parse(JSON.stringify(value)) as T)
}

export function deepEqual(a: unknown, b: unknown): boolean {
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((v, i) => deepEqual(v, b[i]))
  if (isObject(a) && isObject(b)) {
    const keys = Object.keys(a)
    return keys.length === Object.keys(b).length && keys.every((k) => k in b && deepEqual(a[k], b[k]))
  }
  return a === b
}

// --- JSON patch ---------------------------------------------------------------------------------

function parsePointer(pointer: unknown): string[] {
  if (typeof pointer !== 'string' || (pointer !== '' && !pointer.startsWith('/'))) {
    throw new MalformedPatch(`invalid JSON pointer ${JSON.stringify(pointer)}`)
  }
  return pointer === '' ? [] : pointer.slice(1).split('/').map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'))
}

function missing(op: string, pointer: string): PatchNotApplicable {
  return new PatchNotApplicable(`${op} operation does not apply: doc is missing path: "${pointer}": missing value`, false)
}

function arrayIndex(array: Json[], token: string, forInsert: boolean): number | undefined {
  if (forInsert && token === '-') return array.length
  if (!/^(0|[1-9]\d*)$/.test(token)) return undefined
  const index = Number(token)
  return index < array.length || (forInsert && index === array.length) ? index : undefined
}

/** The container holding the pointer's last token, or undefined when a parent is missing. */
function parentOf(doc: Json, tokens: string[]): Json | undefined {
  let current: Json | undefined = doc
  for (const token of tokens.slice(0, -1)) {
    if (Array.isArray(current)) current = current[arrayIndex(current, token, false) ?? -1]
    else if (isObject(current) && Object.prototype.hasOwnProperty.call(current, token)) current = current[token]
    else return undefined
  }
  return current
}

function getAt(doc: Json, pointer: string): Json | undefined {
  const tokens = parsePointer(pointer)
  if (tokens.length === 0) return doc
  const parent = parentOf(doc, tokens)
  const last = tokens[tokens.length - 1]
  if (Array.isArray(parent)) {
    const index = arrayIndex(parent, last, false)
    return index === undefined ? undefined : parent[index]
  }
  if (isObject(parent) && Object.prototype.hasOwnProperty.call(parent, last)) return parent[last]
  return undefined
}

function addAt(doc: Json, pointer: string, value: Json, op = 'add'): Json {
  const tokens = parsePointer(pointer)
  if (tokens.length === 0) return value
  const parent = parentOf(doc, tokens)
  const last = tokens[tokens.length - 1]
  if (Array.isArray(parent)) {
    const index = arrayIndex(parent, last, true)
    if (index === undefined) throw missing(op, pointer)
    parent.splice(index, 0, value)
  } else if (isObject(parent)) {
    parent[last] = value
  } else {
    throw missing(op, pointer)
  }
  return doc
}

function removeAt(doc: Json, pointer: string, op = 'remove'): Json {
  const tokens = parsePointer(pointer)
  if (getAt(doc, pointer) === undefined || tokens.length === 0) throw missing(op, pointer)
  const parent = parentOf(doc, tokens) as Json[] | JsonObject
  const last = tokens[tokens.length - 1]
  if (Array.isArray(parent)) parent.splice(Number(last), 1)
  else delete parent[last]
  return doc
}

function applyOperation(doc: Json, operation: unknown): Json {
  if (!isObject(operation) || typeof operation.op !== 'string') throw new MalformedPatch('invalid JSON patch operation')
  const {op, path} = operation
  const pointer = path as string
  parsePointer(pointer)
  const needsValue = op === 'add' || op === 'replace' || op === 'test'
  if (needsValue && !('value' in operation)) throw new MalformedPatch(`missing value for ${op} operation`)
  const value = clone(operation.value)
  switch (op) {
    case 'add':
      return addAt(doc, pointer, value)
    case 'remove':
      return removeAt(doc, pointer)
    case 'replace':
      if (getAt(doc, pointer) === undefined) throw missing(op, pointer)
      return pointer === '' ? value : addAt(removeAt(doc, pointer, op), pointer, value, op)
    case 'test':
      if (!deepEqual(getAt(doc, pointer), value)) throw new PatchNotApplicable(`testing value ${pointer} failed: test failed`, true)
      return doc
    case 'move':
    case 'copy': {
      const from = operation.from as string
      const moved = clone(getAt(doc, from))
      if (moved === undefined) throw missing(op, from)
      if (op === 'move' && pointer.startsWith(`${from}/`)) throw new MalformedPatch('cannot move a value into one of its children')
      return addAt(op === 'move' ? removeAt(doc, from, op) : doc, pointer, moved, op)
    }
    default:
      throw new MalformedPatch(`unexpected kind: ${op}`)
  }
}

/** Applies every operation to a copy: on any failure nothing of `doc` is changed. */
export function applyJsonPatch(doc: Json, operations: unknown): Json {
  if (!Array.isArray(operations)) throw new MalformedPatch('json: cannot unmarshal object into Go value of type jsonpatch.Patch')
  return operations.reduce<Json>((current, operation) => applyOperation(current, operation), clone(doc))
}

// --- merge patches ------------------------------------------------------------------------------

export function applyMergePatch(target: Json | undefined, patch: Json): Json {
  if (!isObject(patch)) return clone(patch)
  const result: JsonObject = isObject(target) ? clone(target) : {}
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key]
    else result[key] = applyMergePatch(result[key], value)
  }
  return result
}

// Lists with a `merge` patch strategy in the Kubernetes types we serve: primitive lists are unioned,
// lists of maps are merged on their merge key. Every other list is replaced.
const MERGED_PRIMITIVE_LISTS = new Set(['finalizers'])
const MERGE_KEYS: Record<string, string> = {
  ownerReferences: 'uid',
  containers: 'name',
  initContainers: 'name',
  ephemeralContainers: 'name',
  volumes: 'name',
  env: 'name',
  volumeMounts: 'mountPath',
  conditions: 'type',
}

function mergeListOfMaps(target: Json | undefined, patch: Json[], mergeKey: string): Json[] {
  const result = Array.isArray(target) ? clone(target) : []
  for (const element of patch) {
    const index = result.findIndex((e) => isObject(e) && isObject(element) && e[mergeKey] === element[mergeKey])
    if (isObject(element) && element.$patch === 'delete') {
      if (index >= 0) result.splice(index, 1)
    } else if (index >= 0) {
      result[index] = applyStrategicMergePatch(result[index], element)
    } else {
      result.push(clone(element))
    }
  }
  return result
}

function mergeValue(key: string, current: Json | undefined, value: Json): Json {
  if (Array.isArray(value) && MERGED_PRIMITIVE_LISTS.has(key)) {
    const existing = Array.isArray(current) ? current : []
    return [...existing, ...value.filter((v) => !existing.some((e) => deepEqual(e, v)))]
  }
  if (Array.isArray(value) && MERGE_KEYS[key]) return mergeListOfMaps(current, value, MERGE_KEYS[key])
  return applyStrategicMergePatch(current, value)
}

export function applyStrategicMergePatch(target: Json | undefined, patch: Json): Json {
  if (!isObject(patch)) return clone(patch)
  if (patch.$patch === 'replace') {
    const {$patch: _directive, ...replacement} = patch
    return clone(replacement)
  }
  const result: JsonObject = isObject(target) ? clone(target) : {}
  const deletions: [string, Json][] = []
  for (const [key, value] of Object.entries(patch)) {
    if (key.startsWith('$deleteFromPrimitiveList/')) deletions.push([key.slice('$deleteFromPrimitiveList/'.length), value])
    else if (key.startsWith('$')) continue // $setElementOrder, $retainKeys: ordering hints only
    else if (value === null) delete result[key]
    else result[key] = mergeValue(key, result[key], value)
  }
  for (const [key, removed] of deletions) {
    const current = result[key]
    if (Array.isArray(current) && Array.isArray(removed)) result[key] = current.filter((v) => !removed.some((r) => deepEqual(r, v)))
  }
  return result
}
