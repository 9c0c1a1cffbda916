// Create-time validation of the resources whose validation a client can get wrong: events.k8s.io/v1
// Events, as kube-apiserver's ValidateEventCreate (pkg/apis/core/validation/events.go) checks them
// for that API version (the strict rules plus the legacy ones an event with eventTime must pass).
import type {FakeResource} from './resources.js'

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/
const QUALIFIED_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/
// metav1.MicroTime's JSON form: decoded with Go's time.Parse and the RFC3339Micro layout, which takes
// exactly six fractional digits (a millisecond `toISOString()` value does not decode).
const RFC3339_MICRO = '2006-01-02T15:04:05.000000Z07:00'
const MICRO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}(Z|[+-]\d{2}:\d{2})$/

type Fields = Record<string, unknown>

/**
 * Why the body cannot be decoded into the resource's type, or undefined. kube-apiserver answers that
 * with a 400 BadRequest before any validation (the handlers' transformDecodeError).
 */
export function decodeError(resource: FakeResource, object: Fields): string | undefined {
  if (resource.group !== 'events.k8s.io' || typeof object.eventTime !== 'string') return undefined
  if (MICRO_TIME.test(object.eventTime)) return undefined
  return `${resource.kind} in version "v1" cannot be handled as a ${resource.kind}: parsing time "${object.eventTime}" as "${RFC3339_MICRO}": cannot parse the fractional seconds as ".000000"`
}

/** Field errors of an object about to be created (empty: valid). */
export function validateCreate(resource: FakeResource, object: Fields): string[] {
  if (resource.group === 'events.k8s.io') return validateEvent(object)
  return []
}

function text(value: unknown): string {
  return typeof value === 'string' ? value : ''
}

function validateEvent(event: Fields): string[] {
  const errors: string[] = []
  const metadata = (event.metadata ?? {}) as Fields
  const name = text(metadata.name)
  if (name.length > 253 || !DNS_SUBDOMAIN.test(name)) {
    errors.push(`metadata.name: Invalid value: "${name}": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character`)
  }
  const eventTime = text(event.eventTime)
  if (!eventTime) errors.push('eventTime: Required value')
  if (event.type !== 'Normal' && event.type !== 'Warning') errors.push(`type: Invalid value: "": has invalid value: ${text(event.type)}`)
  for (const field of ['deprecatedFirstTimestamp', 'deprecatedLastTimestamp', 'deprecatedCount', 'deprecatedSource']) {
    if (event[field] !== undefined) errors.push(`${field}: Invalid value: "": needs to be unset`)
  }
  const regarding = (event.regarding ?? {}) as Fields
  const namespace = text(metadata.namespace)
  if (!text(regarding.namespace) && namespace !== 'default' && namespace !== 'kube-system') {
    errors.push('involvedObject.namespace: Invalid value: "": does not match event.namespace')
  }
  const controller = text(event.reportingController)
  if (!controller) errors.push('reportingController: Required value')
  else if (controller.length > 63 || !QUALIFIED_NAME.test(controller.split('/').pop()!)) {
    errors.push(`reportingController: Invalid value: "${controller}": must be a qualified name`)
  }
  for (const [field, limit] of [['reportingInstance', 128], ['action', 128], ['reason', 128]] as const) {
    const value = text(event[field])
    if (!value) errors.push(`${field}: Required value`)
    else if (value.length > limit) errors.push(`${field}: Invalid value: "": can have at most ${limit} characters`)
  }
  if (Buffer.byteLength(text(event.note)) > 1024) errors.push('message: Invalid value: "": can have at most 1024 characters')
  return errors
}
