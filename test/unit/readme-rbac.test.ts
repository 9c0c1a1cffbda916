// The README's "Required RBAC" table is the permission table: regenerate it with `npm run docs:rbac`.
import {readFileSync} from 'node:fs'
import path from 'node:path'
import {describe, expect, it} from 'vitest'
import {RBAC_TABLE_END, RBAC_TABLE_START, rbacMarkdown, withRbacTable} from '../../src/render/permissions.js'
import {repoRoot} from '../support/paths.js'

const readme = readFileSync(path.join(repoRoot, 'README.md'), 'utf8')

describe('README "Required RBAC"', () => {
  it('is exactly what src/core/permissions.ts says (npm run docs:rbac rewrites it)', () => {
    expect(withRbacTable(readme)).toBe(readme)
  })

  it('holds the table between its markers', () => {
    const block = readme.slice(readme.indexOf(RBAC_TABLE_START) + RBAC_TABLE_START.length, readme.indexOf(RBAC_TABLE_END))
    expect(block).toBe(`\n${rbacMarkdown()}`)
    expect(block).toContain('| `zombies --delete --yes`, `overdue --delete --yes` | `list pods`, `get pods`, `delete pods`, `create events.events.k8s.io` (best effort) |')
  })

  it('would catch a table edited by hand', () => {
    const edited = readme.replace('`delete pods`', '`delete pods`, `deletecollection pods`')
    expect(withRbacTable(edited)).not.toBe(edited)
  })
})
