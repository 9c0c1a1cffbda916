// Label selectors as k8s.io/apimachinery/pkg/labels parses them: comma-ANDed requirements, equality
// (`a=b`, `a==b`, `a!=b`), set-based (`a in (x,y)`, `a notin (x)`, `a`, `!a`) and `a>1`/`a<1`.
// Field selectors: the equality forms on the few fields kube-apiserver supports for our resources.

import {badRequest} from './status.js'

type Operator = '=' | '!=' | 'in' | 'notin' | 'exists' | '!' | '>' | '<'

export interface Requirement {
  key: string
  operator: Operator
  values: string[]
}

const SPECIAL = new Set([',', '(', ')', '!', '=', '<', '>'])
const NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/

function lex(text: string): string[] {
  const tokens: string[] = []
  let i = 0
  while (i < text.length) {
    const c = text[i]
    if (/\s/.test(c)) {
      i++
    } else if ((c === '!' || c === '=') && text[i + 1] === '=') {
      tokens.push(c + '=')
      i += 2
    } else if (SPECIAL.has(c)) {
      tokens.push(c)
      i++
    } else {
      let j = i
      while (j < text.length && !SPECIAL.has(text[j]) && !/\s/.test(text[j])) j++
      tokens.push(text.slice(i, j))
      i = j
    }
  }
  return tokens
}

function isIdentifier(token: string | undefined): token is string {
  return token !== undefined && !SPECIAL.has(token) && token !== '==' && token !== '!='
}

function parseError(detail: string): Error {
  return badRequest(`unable to parse requirement: ${detail}`)
}

function validateKey(key: string): void {
  const slash = key.indexOf('/')
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined
  const name = slash >= 0 ? key.slice(slash + 1) : key
  const prefixOk = prefix === undefined || (prefix.length <= 253 && DNS_SUBDOMAIN.test(prefix))
  if (!prefixOk || name.length > 63 || !NAME.test(name)) {
    throw parseError(`Invalid value: "${key}": name part must consist of alphanumeric characters, '-', '_' or '.'`)
  }
}

function validateValue(value: string): void {
  if (value !== '' && (value.length > 63 || !NAME.test(value))) {
    throw parseError(`Invalid value: "${value}": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.'`)
  }
}

class SelectorParser {
  private position = 0
  constructor(private readonly tokens: string[]) {}

  parse(): Requirement[] {
    const requirements: Requirement[] = []
    if (this.tokens.length === 0) return requirements
    for (;;) {
      requirements.push(this.requirement())
      if (this.peek() === undefined) return requirements
      this.expect(',')
      if (this.peek() === undefined) throw parseError("found '', expected: identifier after ','")
    }
  }

  private peek(): string | undefined {
    return this.tokens[this.position]
  }

  private next(): string | undefined {
    return this.tokens[this.position++]
  }

  private expect(token: string): void {
    const found = this.next()
    if (found !== token) throw parseError(`found '${found ?? ''}', expected: '${token}'`)
  }

  private key(): string {
    const key = this.next()
    if (!isIdentifier(key)) throw parseError(`found '${key ?? ''}', expected: identifier`)
    validateKey(key)
    return key
  }

  private requirement(): Requirement {
    if (this.peek() === '!') {
      this.next()
      return {key: this.key(), operator: '!', values: []}
    }
    const key = this.key()
    const token = this.peek()
    if (token === undefined || token === ',') return {key, operator: 'exists', values: []}
    this.next()
    if (token === 'in' || token === 'notin') return {key, operator: token, values: this.valueSet(token)}
    if (token === '=' || token === '==') return {key, operator: '=', values: [this.singleValue()]}
    if (token === '!=') return {key, operator: '!=', values: [this.singleValue()]}
    if (token === '>' || token === '<') return {key, operator: token, values: [this.integerValue()]}
    throw parseError(`found '${token}', expected: in, notin, =, ==, !=, gt, lt`)
  }

  private singleValue(): string {
    const token = this.peek()
    if (token === undefined || token === ',') return ''
    this.next()
    if (!isIdentifier(token)) throw parseError(`found '${token}', expected: identifier`)
    validateValue(token)
    return token
  }

  private integerValue(): string {
    const value = this.singleValue()
    if (!/^-?\d+$/.test(value)) throw parseError(`for 'gt', 'lt' operators, the value must be an integer`)
    return value
  }

  // A port of labels.Parser.parseIdentifiersList: `(a,)`, `(,a)` and `(a,,b)` carry an empty value.
  private valueSet(operator: string): string[] {
    this.expect('(')
    if (this.peek() === ')') throw parseError(`for '${operator}' operators, values set can't be empty`)
    const values = new Set<string>()
    for (;;) {
      const token = this.next()
      if (token === ',') {
        if (values.size === 0) values.add('')
        const ahead = this.peek()
        if (ahead === ')') {
          values.add('')
          break
        }
        if (ahead === ',') {
          this.next()
          values.add('')
        }
        continue
      }
      if (!isIdentifier(token)) throw parseError(`found '${token ?? ''}', expected: ',', or identifier`)
      validateValue(token)
      values.add(token)
      const ahead = this.peek()
      if (ahead === ')') break
      if (ahead !== ',') throw parseError(`found '${ahead ?? ''}', expected: ',' or ')'`)
    }
    this.expect(')')
    return [...values]
  }
}

export function parseLabelSelector(text: string | undefined): Requirement[] {
  return new SelectorParser(lex(text ?? '')).parse()
}

function matchesRequirement(labels: Record<string, string>, requirement: Requirement): boolean {
  const has = Object.prototype.hasOwnProperty.call(labels, requirement.key)
  const value = labels[requirement.key]
  switch (requirement.operator) {
    case '=':
    case 'in':
      return has && requirement.values.includes(value)
    case '!=':
    case 'notin':
      return !has || !requirement.values.includes(value)
    case 'exists':
      return has
    case '!':
      return !has
    case '>':
    case '<': {
      if (!has || !/^-?\d+$/.test(value)) return false
      const difference = Number(value) - Number(requirement.values[0])
      return requirement.operator === '>' ? difference > 0 : difference < 0
    }
  }
}

export function matchesLabels(labels: Record<string, string> | undefined, requirements: Requirement[]): boolean {
  return requirements.every((requirement) => matchesRequirement(labels ?? {}, requirement))
}

// --- field selectors ---------------------------------------------------------------------------

export interface FieldRequirement {
  path: string[]
  equal: boolean
  value: string
}

const FIELDS_EVERY_RESOURCE = ['metadata.name', 'metadata.namespace']
const EXTRA_FIELDS: Record<string, string[]> = {
  pods: ['status.phase', 'spec.nodeName', 'spec.restartPolicy', 'spec.schedulerName', 'spec.serviceAccountName', 'status.podIP'],
  jobs: ['status.successful'],
}

export function parseFieldSelector(text: string | undefined, plural: string): FieldRequirement[] {
  if (!text || !text.trim()) return []
  const supported = [...FIELDS_EVERY_RESOURCE, ...(EXTRA_FIELDS[plural] ?? [])]
  return text.split(',').map((part) => {
    const match = /^\s*([^!=\s]+)\s*(==|=|!=)\s*(\S*)\s*$/.exec(part)
    if (!match) throw badRequest(`invalid selector: '${text}'; can't understand '${part}'`)
    const [, field, operator, value] = match
    if (!supported.includes(field)) throw badRequest(`field label not supported: ${field}`)
    return {path: field.split('.'), equal: operator !== '!=', value}
  })
}

function fieldValue(object: unknown, path: string[]): string {
  let current: unknown = object
  for (const key of path) current = current && typeof current === 'object' ? (current as Record<string, unknown>)[key] : undefined
  return current === undefined || current === null ? '' : String(current)
}

export function matchesFields(object: unknown, requirements: FieldRequirement[]): boolean {
  return requirements.every((r) => (fieldValue(object, r.path) === r.value) === r.equal)
}
