// metav1.Status bodies with the codes, reasons and message formats of kube-apiserver
// (k8s.io/apimachinery/pkg/api/errors).

import {type FakeResource, qualifiedResource} from './resources.js'

export interface StatusBody {
  kind: 'Status'
  apiVersion: 'v1'
  metadata: Record<string, never>
  status: 'Failure' | 'Success'
  message?: string
  reason?: string
  details?: {name?: string; group?: string; kind?: string; uid?: string; causes?: unknown[]}
  code: number
}

/** An error the fake server answers with: an HTTP status and its Status body. */
export class ApiStatusError extends Error {
  constructor(readonly body: StatusBody) {
    super(body.message)
  }
  get code(): number {
    return this.body.code
  }
}

export function failure(
  code: number,
  reason: string,
  message: string,
  details?: StatusBody['details'],
): ApiStatusError {
  const body: StatusBody = {kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code}
  if (details) body.details = details
  return new ApiStatusError(body)
}

function resourceDetails(resource: FakeResource, name?: string): NonNullable<StatusBody['details']> {
  const details: NonNullable<StatusBody['details']> = {}
  if (name) details.name = name
  if (resource.group) details.group = resource.group
  details.kind = resource.plural
  return details
}

function named(resource: FakeResource, name: string): string {
  return `${qualifiedResource(resource)} "${name}"`
}

export function notFound(resource: FakeResource, name: string): ApiStatusError {
  return failure(404, 'NotFound', `${named(resource, name)} not found`, resourceDetails(resource, name))
}

export function alreadyExists(resource: FakeResource, name: string, beingDeleted: boolean): ApiStatusError {
  const prefix = beingDeleted ? 'object is being deleted: ' : ''
  return failure(409, 'AlreadyExists', `${prefix}${named(resource, name)} already exists`, resourceDetails(resource, name))
}

export function conflict(resource: FakeResource, name: string, why: string): ApiStatusError {
  const message = `Operation cannot be fulfilled on ${named(resource, name)}: ${why}`
  return failure(409, 'Conflict', message, resourceDetails(resource, name))
}

/**
 * 409 for a DELETE whose preconditions fail: kube-apiserver checks them before deleting
 * (k8s.io/apiserver registry/rest/delete.go BeforeDelete) and names the resource by its Kind there,
 * `Operation cannot be fulfilled on Job.batch "NAME"` with details.kind `Job`, not by its plural.
 */
export function preconditionConflict(resource: FakeResource, name: string, why: string): ApiStatusError {
  const kind = `${resource.kind}${resource.group ? `.${resource.group}` : ''}`
  const details: NonNullable<StatusBody['details']> = {name, ...(resource.group ? {group: resource.group} : {}), kind: resource.kind}
  return failure(409, 'Conflict', `Operation cannot be fulfilled on ${kind} "${name}": ${why}`, details)
}

export function invalid(resource: FakeResource, name: string, why: string): ApiStatusError {
  const message = `${resource.kind}${resource.group ? `.${resource.group}` : ''} "${name}" is invalid: ${why}`
  return failure(422, 'Invalid', message, {...resourceDetails(resource, name), kind: resource.kind})
}

export function badRequest(message: string): ApiStatusError {
  return failure(400, 'BadRequest', message)
}

export function forbidden(
  user: string,
  verb: string,
  resource: FakeResource,
  namespace: string | undefined,
  name: string | undefined,
): ApiStatusError {
  const subject = name ? named(resource, name) : qualifiedResource(resource)
  const scope = namespace ? `in the namespace "${namespace}"` : 'at the cluster scope'
  const why = `User "${user}" cannot ${verb} resource "${resource.plural}" in API group "${resource.group}" ${scope}`
  return failure(403, 'Forbidden', `${subject} is forbidden: ${why}`, resourceDetails(resource, name))
}

export function unauthorized(): ApiStatusError {
  return failure(401, 'Unauthorized', 'Unauthorized')
}

export function expired(): ApiStatusError {
  return failure(
    410,
    'Expired',
    'The provided continue parameter is too old to display a consistent list result. ' +
      'You can start a new list without the continue parameter.',
  )
}

export function success(resource: FakeResource, name: string, uid: string): StatusBody {
  const details = {...resourceDetails(resource, name), uid}
  return {kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details, code: 200}
}
