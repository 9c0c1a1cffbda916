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

const validators = {
  report: ajv.compile(schema('report')),
}

export function assertValidReport(document: unknown): void {
  if (!validators.report(document)) {
    throw new Error(`report does not match docs/schemas/report.schema.json: ${ajv.errorsText(validators.report.errors)}`)
  }
}
