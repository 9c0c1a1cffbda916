// Output formats of the contract: table (default), wide, json, yaml, name.
import yaml from 'js-yaml'

export const OUTPUT_FORMATS = ['table', 'wide', 'json', 'yaml', 'name'] as const
export type OutputFormat = (typeof OUTPUT_FORMATS)[number]

export function renderDocument(document: unknown, format: 'json' | 'yaml'): string {
  if (format === 'json') return JSON.stringify(document, null, 2) + '\n'
  return yaml.dump(document, {noRefs: true, lineWidth: -1, sortKeys: false})
}
