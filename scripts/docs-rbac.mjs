// Rewrites the "Required RBAC" table of README.md from src/core/permissions.ts (run after `npm run build`).
import {readFileSync, writeFileSync} from 'node:fs'
import {withRbacTable} from '../dist/src/render/permissions.js'

const path = new URL('../README.md', import.meta.url)
writeFileSync(path, withRbacTable(readFileSync(path, 'utf8')))
