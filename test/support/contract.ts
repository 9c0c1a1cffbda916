// The contract's JSON documents, checked against the schemas in docs/schemas (so the output cannot drift unnoticed).
import {readFileSync} from 'node:fs'
import path from 'node:path'
import AjvModule from 'ajv'
import {repoRoot} from './paths.js'

// ajv is CommonJS: under NodeNext its default export is the module object.
const Ajv = (AjvModule as unknown as {default: typeof AjvModule}).default ?? AjvModule
const ajv = new (Ajv as unknown as new (o: object) => import('ajv').default)({allErrors: true, strict: false})

function schema(name: string) {
  return JSON.parse(readFileSync(path.join(repoRoot, 'docs', 'schemas', `${name}.schema.json`), 'utf8'))
}

ajv.addSchema(schema('report'))
const validators = {
  report: ajv.getSchema('https://airflow-reap/schemas/report.schema.json')!,
  runList: ajv.compile(schema('run-list')),
  run: ajv.compile(schema('run')),
  doctor: ajv.compile(schema('doctor-report')),
}

function assertValid(kind: keyof typeof validators, file: string, document: unknown): void {
  const validate = validators[kind]
  if (!validate(document)) throw new Error(`document does not match docs/schemas/${file}: ${ajv.errorsText(validate.errors)}`)
}

export function assertValidRunList(document: unknown): void {
  assertValid('runList', 'run-list.schema.json', document)
}

export function assertValidRun(document: unknown): void {
  assertValid('run', 'run.schema.json', document)
}

export function assertValidReport(document: unknown): void {
  assertValid('report', 'report.schema.json', document)
}

export function assertValidDoctorReport(document: unknown): void {
  assertValid('doctor', 'doctor-report.schema.json', document)
}
