'use strict'
// Main script of the single executable (Node's SEA): the release build injects it, with the app
// payload as the SEA asset `app.pack`, into a copy of the Node 24 binary.
//
// The payload is the production app exactly as `npm install -g` would lay it out (package.json,
// bin/, dist/src, oclif.manifest.json, node_modules with better-sqlite3's addon built for this
// Node). It is unpacked once per build into $XDG_CACHE_HOME/airflow-reap/app-<version>-<hash>/
// (atomically: into a temporary sibling, then renamed), and every run after that only checks that
// the folder is complete and loads bin/run.js from it with the embedded Node.
//
// Only Node's built-in modules can be required here: this file runs inside the executable.

const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const zlib = require('node:zlib')
const {createRequire} = require('node:module')
const Module = require('node:module')
const sea = require('node:sea')

// Filled in by scripts/release.mjs.
const APP_ID = '__APP_ID__'
const COMPLETE = '.complete'
const ENTRY = 'sea-entry.cjs'

function fail(message) {
  process.stderr.write(`kubectl-airflow_reap: ${message}\n`)
  process.exit(1)
}

function isAbsoluteDir(value) {
  return typeof value === 'string' && value !== '' && path.isAbsolute(value)
}

/** Where unpacked apps live: AIRFLOW_REAP_APP_CACHE, else $XDG_CACHE_HOME/airflow-reap, else ~/.cache/airflow-reap. */
function cacheRoots() {
  const roots = []
  if (isAbsoluteDir(process.env.AIRFLOW_REAP_APP_CACHE)) roots.push(process.env.AIRFLOW_REAP_APP_CACHE)
  else {
    let base = process.env.XDG_CACHE_HOME
    if (!isAbsoluteDir(base)) {
      let home = ''
      try {
        home = os.homedir()
      } catch {}
      base = home ? path.join(home, '.cache') : ''
    }
    if (base) roots.push(path.join(base, 'airflow-reap'))
  }
  // Fallback for a read-only or missing home (a CronJob with readOnlyRootFilesystem and an emptyDir /tmp).
  const uid = typeof process.getuid === 'function' ? process.getuid() : 'user'
  roots.push(path.join(os.tmpdir(), `airflow-reap-${uid}`))
  return roots
}

function isComplete(dir) {
  try {
    return fs.statSync(path.join(dir, COMPLETE)).isFile()
  } catch {
    return false
  }
}

/** In a shared folder such as /tmp, use it only if it is ours and nobody else can write to it. */
function ensurePrivateDir(dir) {
  fs.mkdirSync(dir, {recursive: true, mode: 0o700})
  const stat = fs.lstatSync(dir)
  if (!stat.isDirectory()) throw new Error(`${dir} is not a directory`)
  if (typeof process.getuid === 'function' && dir.startsWith(os.tmpdir())) {
    if (stat.uid !== process.getuid() || (stat.mode & 0o022) !== 0) throw new Error(`${dir} is not private to this user`)
  }
}

/**
 * Payload layout (written by scripts/release/pack.mjs), brotli-compressed:
 * u32 BE length of the index, the index as JSON ([path, mode, size] for a file, [path, 'l', target]
 * for a symbolic link), then the files' bytes one after another in index order.
 */
function unpack(buffer, into) {
  const raw = zlib.brotliDecompressSync(buffer)
  const indexLength = raw.readUInt32BE(0)
  const index = JSON.parse(raw.toString('utf8', 4, 4 + indexLength))
  let offset = 4 + indexLength
  const made = new Set()
  const mkdir = (dir) => {
    if (made.has(dir)) return
    fs.mkdirSync(dir, {recursive: true})
    made.add(dir)
  }
  for (const [relative, mode, sizeOrTarget] of index) {
    const target = path.join(into, relative)
    if (!target.startsWith(into + path.sep)) throw new Error(`bad path in payload: ${relative}`)
    mkdir(path.dirname(target))
    if (mode === 'l') {
      fs.symlinkSync(sizeOrTarget, target)
      continue
    }
    fs.writeFileSync(target, raw.subarray(offset, offset + sizeOrTarget), {mode})
    offset += sizeOrTarget
  }
  if (offset !== raw.length) throw new Error('payload is truncated or corrupt')
}

function extract(root, dir) {
  const tmp = `${dir}.tmp-${process.pid}-${Date.now().toString(36)}`
  try {
    unpack(Buffer.from(sea.getRawAsset('app.pack')), tmp)
    fs.writeFileSync(path.join(tmp, COMPLETE), `${APP_ID}\n`)
    try {
      fs.renameSync(tmp, dir)
    } catch (error) {
      // Another first run finished before us (ENOTEMPTY/EEXIST), or a broken leftover is in the way.
      if (isComplete(dir)) return
      const aside = `${dir}.stale-${process.pid}-${Date.now().toString(36)}`
      fs.renameSync(dir, aside)
      fs.renameSync(tmp, dir)
      fs.rmSync(aside, {recursive: true, force: true})
    }
  } finally {
    fs.rmSync(tmp, {recursive: true, force: true})
  }
  removeOldApps(root)
}

/** Best effort: apps of other builds, unpacked more than a day ago (a newer build replaced them). */
function removeOldApps(root) {
  try {
    const dayAgo = Date.now() - 24 * 3600 * 1000
    for (const name of fs.readdirSync(root)) {
      if (!name.startsWith('app-') || name === `app-${APP_ID}`) continue
      const dir = path.join(root, name)
      let mtime
      try {
        mtime = fs.statSync(path.join(dir, COMPLETE)).mtimeMs
      } catch {
        mtime = fs.lstatSync(dir).mtimeMs // a leftover .tmp-/.stale- folder
      }
      if (mtime < dayAgo) fs.rmSync(dir, {recursive: true, force: true})
    }
  } catch {}
}

function appDir() {
  const errors = []
  for (const root of cacheRoots()) {
    const dir = path.join(root, `app-${APP_ID}`)
    if (isComplete(dir)) return dir
    try {
      ensurePrivateDir(root)
      extract(root, dir)
      if (isComplete(dir)) return dir
    } catch (error) {
      if (isComplete(dir)) return dir // another first run, racing with this one, finished it
      errors.push(`${root}: ${error && error.message ? error.message : error}`)
    }
  }
  fail(`cannot unpack the application into the cache directory (set AIRFLOW_REAP_APP_CACHE to a writable folder):\n  ${errors.join('\n  ')}`)
}

const dir = appDir()
if (typeof Module.enableCompileCache === 'function' && !process.env.NODE_DISABLE_COMPILE_CACHE) {
  try {
    Module.enableCompileCache(path.join(dir, '.compile-cache'))
  } catch {}
}
// sea-entry.cjs is a real file on disk, so the import() of the ESM entry point inside it works as
// in any installed package.
createRequire(path.join(dir, ENTRY))(`./${ENTRY}`)
