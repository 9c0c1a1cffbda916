#!/usr/bin/env node
// `npm run release`: builds, for the platform it runs on, dist/release/kubectl-airflow_reap_<os>_<arch>.tar.gz
// holding one self-contained executable (a Node 24 single executable application carrying the
// whole production app) and LICENSE, then writes the archive's sha256 into krew-manifest.yaml.
//
//   node scripts/release.mjs                    build the release for this machine
//   node scripts/release.mjs --if-missing       ... unless the archive is already there
//   ... --manifest-out PATH                     write the manifest with the archive's sha256 to PATH
//                                               (a copy of krew-manifest.yaml) and leave the tracked
//                                               file alone: `npm run test:release` must leave the
//                                               clone clean
//   node scripts/release.mjs manifest [--base-url URL] ARCHIVE...
//                                               only write the sha256 (and uri) of the given archives
//                                               into krew-manifest.yaml (the release workflow's last step)
//
// Steps: tsc → the Node 24 package from the npm registry → better-sqlite3 built for that Node
// (node-gyp, cached) → a production install of the app (npm ci --omit=dev) with the oclif manifest
// → the payload → SEA blob → postject → smoke test → archive → manifest.
// Slow inputs are cached in .cache/release/ (AIRFLOW_REAP_RELEASE_CACHE), keyed by version.

import {execFileSync, spawnSync} from 'node:child_process'
import {
  chmodSync,
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import {createRequire} from 'node:module'
import os from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

import {
  EXECUTABLE,
  NODE_PACKAGES,
  SEA_FUSE,
  archiveName,
  gzip,
  hostPlatform,
  packPayload,
  sha256,
  tar,
  updateManifest,
  walk,
} from './release/lib.mjs'
import {bundleApp, bundleQuickVersion} from './release/bundle.mjs'
import {writeOclifManifest} from './oclif-manifest.mjs'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const OUT_DIR = path.join(ROOT, 'dist', 'release')
const MANIFEST = path.join(ROOT, 'krew-manifest.yaml')
const CACHE = path.resolve(process.env.AIRFLOW_REAP_RELEASE_CACHE || path.join(ROOT, '.cache', 'release'))
const require = createRequire(import.meta.url)
/** The app bundled into one CommonJS file, inside the staged app. */
const BUNDLE = 'dist/bundle/cli.cjs'
/** src/cli/quick-version.ts on its own: `version` and `--version` without loading the app. */
const QUICK_VERSION = 'dist/bundle/quick-version.cjs'
const started = Date.now()

function log(message) {
  const seconds = ((Date.now() - started) / 1000).toFixed(1).padStart(6)
  process.stderr.write(`[release ${seconds}s] ${message}\n`)
}

/** Runs a command; with `capture` its output is returned (stdout) or shown only if it fails (stderr). */
function run(command, args, options = {}) {
  const {capture, ...spawnOptions} = options
  const result = spawnSync(command, args, {stdio: capture ? ['ignore', 'pipe', 'pipe'] : 'inherit', encoding: 'utf8', maxBuffer: 64 << 20, ...spawnOptions})
  if (result.error) throw result.error
  if (result.status !== 0) {
    if (capture) process.stderr.write(`${result.stdout ?? ''}${result.stderr ?? ''}`)
    throw new Error(`${command} ${args.join(' ')} exited with ${result.status ?? result.signal}`)
  }
  return result.stdout
}

function npm(args, options = {}) {
  // Inside `npm run`, npm_execpath is npm's own CLI script; run it with this Node.
  const cli = process.env.npm_execpath
  return cli && /\.c?js$/.test(cli) ? run(process.execPath, [cli, ...args], options) : run('npm', args, options)
}

function packageJson() {
  return JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8'))
}

/** Unpacks a registry tarball (npm pack) into `into`/package. */
function npmPackInto(spec, into) {
  const tmp = mkdtempSync(path.join(CACHE, 'pack-'))
  try {
    const file = npm(['pack', spec, '--pack-destination', tmp, '--silent'], {capture: true}).trim().split('\n').pop()
    mkdirSync(into, {recursive: true})
    run('tar', ['-xzf', path.join(tmp, file), '-C', into])
  } finally {
    rmSync(tmp, {recursive: true, force: true})
  }
}

/** The Node 24 binary and headers for this platform, from the npm registry (cached). */
function nodeForSea(platform) {
  const pinned = NODE_PACKAGES[platform.key]
  const version = process.env.AIRFLOW_REAP_SEA_NODE_VERSION || pinned.version
  const dir = path.join(CACHE, `${pinned.name}-${version}`)
  const binary = path.join(dir, 'package', 'bin', 'node')
  if (!existsSync(binary)) {
    log(`fetching ${pinned.name}@${version} from the npm registry (the platform package of node@${version})`)
    const tmp = `${dir}.tmp-${process.pid}`
    rmSync(tmp, {recursive: true, force: true})
    npmPackInto(`${pinned.name}@${version}`, tmp)
    rmSync(dir, {recursive: true, force: true})
    renameSync(tmp, dir)
  }
  const reported = run(binary, ['--version'], {capture: true}).trim()
  if (reported !== `v${version}`) throw new Error(`${binary} reports ${reported}, expected v${version}`)
  return {version, binary, nodedir: path.join(dir, 'package')}
}

function nodeGypScript() {
  const candidates = [process.env.npm_config_node_gyp]
  if (process.env.npm_execpath) candidates.push(path.join(path.dirname(process.env.npm_execpath), '..', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'))
  try {
    candidates.push(require.resolve('node-gyp/bin/node-gyp.js'))
  } catch {}
  const npmRoot = spawnSync('npm', ['root', '-g'], {encoding: 'utf8'}).stdout?.trim()
  if (npmRoot) candidates.push(path.join(npmRoot, 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'))
  const found = candidates.find((file) => file && /\.js$/.test(file) && existsSync(file))
  if (!found) throw new Error('node-gyp not found: run the release through `npm run release` (npm ships node-gyp)')
  return found
}

/** better-sqlite3's addon compiled against the SEA's Node headers (about two minutes; cached). */
function betterSqliteAddon(platform, node) {
  const source = path.dirname(require.resolve('better-sqlite3/package.json', {paths: [ROOT]}))
  const {version} = JSON.parse(readFileSync(path.join(source, 'package.json'), 'utf8'))
  const cached = path.join(CACHE, `better-sqlite3-${version}-node-v${node.version}-${platform.os}-${platform.arch}.node`)
  if (existsSync(cached)) {
    log(`better-sqlite3 ${version} for Node ${node.version}: cached`)
    return cached
  }
  log(`building better-sqlite3 ${version} for Node ${node.version} with node-gyp (takes a couple of minutes)`)
  const work = mkdtempSync(path.join(CACHE, 'better-sqlite3-build-'))
  try {
    for (const entry of ['binding.gyp', 'deps', 'src', 'lib', 'package.json']) cpSync(path.join(source, entry), path.join(work, entry), {recursive: true})
    const env = {...process.env, npm_config_nodedir: node.nodedir, npm_config_target: node.version, npm_config_runtime: 'node'}
    for (const key of Object.keys(env)) if (/^npm_config_(build_from_source|dist_url|disturl)$/i.test(key)) delete env[key]
    run(process.execPath, [nodeGypScript(), 'rebuild', '--release', `--nodedir=${node.nodedir}`, `--target=${node.version}`, '--jobs=max'], {cwd: work, env, capture: true})
    const built = path.join(work, 'build', 'Release', 'better_sqlite3.node')
    copyFileSync(built, `${cached}.tmp`)
    renameSync(`${cached}.tmp`, cached)
  } finally {
    rmSync(work, {recursive: true, force: true})
  }
  return cached
}

/** Files of the production install that nothing loads at run time. */
function prune(nodeModules) {
  const drop = (file) => rmSync(file, {recursive: true, force: true})
  drop(path.join(nodeModules, '.bin'))
  drop(path.join(nodeModules, '.package-lock.json'))
  drop(path.join(nodeModules, '@types'))
  const sqlite = path.join(nodeModules, 'better-sqlite3')
  for (const entry of ['deps', 'src', 'build', 'binding.gyp']) drop(path.join(sqlite, entry))
  for (const [rel, abs, stat] of walk(nodeModules)) {
    if (stat.isFile() && /\.(d\.[cm]?ts|map|md|markdown)$/i.test(rel)) drop(abs)
  }
}

/** The production app, laid out as `npm install -g` would, with the addon for the SEA's Node. */
async function stageApp(addon) {
  const stage = path.join(CACHE, 'stage')
  rmSync(stage, {recursive: true, force: true})
  mkdirSync(stage, {recursive: true})
  copyFileSync(path.join(ROOT, 'package.json'), path.join(stage, 'package.json'))
  copyFileSync(path.join(ROOT, 'package-lock.json'), path.join(stage, 'package-lock.json'))
  log('production install (npm ci --omit=dev --ignore-scripts)')
  npm(['ci', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'], {cwd: stage})
  rmSync(path.join(stage, 'package-lock.json'))
  cpSync(path.join(ROOT, 'bin'), path.join(stage, 'bin'), {recursive: true})
  // bin/run.js answers `version` with it before importing oclif.
  cpSync(path.join(ROOT, 'dist', 'src', 'cli', 'quick-version.js'), path.join(stage, 'dist', 'src', 'cli', 'quick-version.js'))
  // The app as one file (start-up: one file to read and compile instead of a few hundred).
  const meta = await bundleApp(path.join(stage, BUNDLE))
  log(`bundle: ${Object.keys(meta.inputs).length} modules in ${BUNDLE}`)
  await bundleQuickVersion(path.join(stage, QUICK_VERSION))
  copyFileSync(path.join(ROOT, 'LICENSE'), path.join(stage, 'LICENSE'))
  const pkg = packageJson()
  delete pkg.devDependencies
  delete pkg.scripts
  // oclif finds the commands and the hook as exports of the bundle (src/cli/bundle-entry.ts).
  pkg.oclif.commands = {strategy: 'explicit', target: `./${BUNDLE}`, identifier: 'COMMANDS'}
  pkg.oclif.hooks = {command_not_found: {target: `./${BUNDLE}`, identifier: 'commandNotFound'}}
  pkg.oclif.helpClass = {target: `./${BUNDLE}`, identifier: 'HelpClass'}
  writeFileSync(path.join(stage, 'package.json'), JSON.stringify(pkg, null, 2) + '\n')
  const nodeModules = path.join(stage, 'node_modules')
  prune(nodeModules)
  const release = path.join(nodeModules, 'better-sqlite3', 'build', 'Release')
  mkdirSync(release, {recursive: true})
  copyFileSync(addon, path.join(release, 'better_sqlite3.node'))
  log(`oclif manifest: ${(await writeOclifManifest(stage, {errorOnManifestCreate: false})).join(', ')}`)
  // The file the executable requires: it runs the bundle.
  writeFileSync(
    path.join(stage, 'sea-entry.cjs'),
    [
      "'use strict'",
      '// Loaded by the single executable (scripts/release/sea-main.cjs): `version` and `--version` are',
      '// answered before the app loads (src/cli/quick-version.ts), anything else runs the bundle.',
      `if (!require('./${QUICK_VERSION}').answerVersion(process.argv.slice(2), __dirname)) {`,
      `  require('./${BUNDLE}').run(__filename).catch((error) => {`,
      '    console.error(error)',
      '    process.exitCode = 1',
      '  })',
      '}',
      '',
    ].join('\n'),
  )
  return stage
}

function smokeTestStage(stage, node) {
  const script = `const D = require(${JSON.stringify(path.join(stage, 'node_modules', 'better-sqlite3'))}); const db = new D(':memory:'); if (db.prepare('select 1 as x').get().x !== 1) process.exit(1)`
  run(node.binary, ['-e', script])
  run(node.binary, [path.join(stage, 'bin', 'run.js'), '--version'], {capture: true})
  run(node.binary, [path.join(stage, 'sea-entry.cjs'), 'zombies', '--help'], {capture: true})
  const quick = run(node.binary, [path.join(stage, 'sea-entry.cjs'), 'version'], {capture: true})
  const oclif = run(node.binary, [path.join(stage, 'sea-entry.cjs'), 'version'], {capture: true, env: {...process.env, DEBUG: 'none'}})
  if (quick !== oclif) throw new Error(`version without oclif printed ${JSON.stringify(quick)}, oclif ${JSON.stringify(oclif)}`)
  log('staged app runs on the SEA Node (better-sqlite3 loads, --version, the bundle\'s zombies --help and version work)')
}

function buildExecutable(platform, node, stage, version) {
  const work = path.join(CACHE, 'sea')
  rmSync(work, {recursive: true, force: true})
  mkdirSync(work, {recursive: true})
  const payload = packPayload(stage)
  const appId = `${version}-${payload.sha256.slice(0, 12)}`
  log(`payload: ${payload.files} files, ${(payload.rawBytes / 1e6).toFixed(1)} MB → ${(payload.packed.length / 1e6).toFixed(1)} MB brotli, app id ${appId}`)
  writeFileSync(path.join(work, 'app.pack'), payload.packed)
  const main = readFileSync(path.join(ROOT, 'scripts', 'release', 'sea-main.cjs'), 'utf8').replace("'__APP_ID__'", JSON.stringify(appId))
  writeFileSync(path.join(work, 'sea-main.cjs'), main)
  const config = {
    main: path.join(work, 'sea-main.cjs'),
    output: path.join(work, 'sea-prep.blob'),
    disableExperimentalSEAWarning: true,
    useSnapshot: false,
    useCodeCache: false, // the main script is tiny, and the app's own modules use the compile cache
    assets: {'app.pack': path.join(work, 'app.pack')},
  }
  writeFileSync(path.join(work, 'sea-config.json'), JSON.stringify(config, null, 2))
  run(node.binary, ['--experimental-sea-config', path.join(work, 'sea-config.json')], {cwd: work, capture: true})
  const exe = path.join(work, EXECUTABLE)
  copyFileSync(node.binary, exe)
  chmodSync(exe, 0o755)
  if (platform.os === 'darwin') run('codesign', ['--remove-signature', exe])
  const postject = require.resolve('postject/dist/cli.js', {paths: [ROOT]})
  const args = [postject, exe, 'NODE_SEA_BLOB', config.output, '--sentinel-fuse', SEA_FUSE]
  if (platform.os === 'darwin') args.push('--macho-segment-name', 'NODE_SEA')
  run(process.execPath, args, {capture: true})
  if (platform.os === 'darwin') run('codesign', ['--sign', '-', exe])
  return {exe, appId}
}

/** Runs the executable as a user would: empty cache, no Node.js on PATH, outside the repository. */
function smokeTestExecutable(exe, version) {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'airflow-reap-smoke-'))
  try {
    const env = {PATH: '/nonexistent', HOME: tmp, XDG_CACHE_HOME: path.join(tmp, 'cache'), NO_COLOR: '1', LANG: 'C.UTF-8'}
    const out = execFileSync(exe, ['--version'], {cwd: tmp, env, encoding: 'utf8'})
    if (!out.includes(version)) throw new Error(`the executable printed ${JSON.stringify(out)} for --version`)
    execFileSync(exe, ['--help'], {cwd: tmp, env, encoding: 'utf8'})
    log(`executable works without Node.js on PATH: ${out.trim()}`)
  } finally {
    rmSync(tmp, {recursive: true, force: true})
  }
}

function sourceDateEpoch() {
  if (/^\d+$/.test(process.env.SOURCE_DATE_EPOCH ?? '')) return Number(process.env.SOURCE_DATE_EPOCH)
  const fromGit = spawnSync('git', ['log', '-1', '--format=%ct'], {cwd: ROOT, encoding: 'utf8'})
  return fromGit.status === 0 && /^\d+$/.test(fromGit.stdout.trim()) ? Number(fromGit.stdout.trim()) : 0
}

function writeArchive(platform, exe) {
  mkdirSync(OUT_DIR, {recursive: true})
  const file = path.join(OUT_DIR, archiveName(platform))
  const data = gzip(
    tar(
      [
        {name: EXECUTABLE, data: readFileSync(exe), mode: 0o755},
        {name: 'LICENSE', data: readFileSync(path.join(ROOT, 'LICENSE')), mode: 0o644},
      ],
      sourceDateEpoch(),
    ),
  )
  writeFileSync(`${file}.tmp`, data)
  renameSync(`${file}.tmp`, file)
  const digest = sha256(data)
  writeFileSync(`${file}.sha256`, `${digest}  ${path.basename(file)}\n`)
  return {file, digest, bytes: data.length}
}

function writeManifest(archives, baseUrl, out = MANIFEST) {
  const version = packageJson().version
  const before = readFileSync(MANIFEST, 'utf8')
  const after = updateManifest(before, {version, archives, baseUrl})
  if (out !== MANIFEST || after !== before) writeFileSync(out, after)
}

function platformOfArchive(file) {
  const match = /kubectl-airflow_reap_([a-z]+)_([a-z0-9]+)\.tar\.gz$/.exec(path.basename(file))
  if (!match) throw new Error(`not a release archive name: ${file}`)
  return `${match[1]}-${match[2]}`
}

async function release({ifMissing, manifestOut}) {
  const platform = hostPlatform()
  const target = path.join(OUT_DIR, archiveName(platform))
  if (ifMissing && existsSync(target)) {
    log(`${path.relative(ROOT, target)} exists (delete it or run \`npm run release\` to rebuild)`)
    if (manifestOut) writeManifest({[platform.key]: {sha256: sha256(readFileSync(target))}}, undefined, manifestOut)
    return
  }
  mkdirSync(CACHE, {recursive: true})
  const {version} = packageJson()
  log(`airflow-reap ${version} for ${platform.os}/${platform.arch}`)
  log('npm run build')
  npm(['run', 'build', '--silent'])
  const node = nodeForSea(platform)
  const addon = betterSqliteAddon(platform, node)
  const stage = await stageApp(addon)
  smokeTestStage(stage, node)
  const {exe} = buildExecutable(platform, node, stage, version)
  smokeTestExecutable(exe, version)
  const archive = writeArchive(platform, exe)
  rmSync(path.dirname(exe), {recursive: true, force: true}) // the executable, blob and payload (~270 MB): all in the archive now
  writeManifest({[platform.key]: {sha256: archive.digest}}, undefined, manifestOut)
  log(`${path.relative(ROOT, archive.file)}: ${(archive.bytes / 1e6).toFixed(1)} MB, sha256 ${archive.digest} (written to ${path.relative(ROOT, manifestOut ?? MANIFEST)})`)
}

async function main(argv) {
  if (argv[0] === 'manifest') {
    let baseUrl
    const files = []
    for (let i = 1; i < argv.length; i++) {
      if (argv[i] === '--base-url') baseUrl = argv[++i]
      else files.push(argv[i])
    }
    if (files.length === 0 && !baseUrl) throw new Error('usage: release.mjs manifest [--base-url URL] ARCHIVE...')
    const archives = {}
    for (const file of files) archives[platformOfArchive(file)] = {sha256: sha256(readFileSync(file))}
    writeManifest(archives, baseUrl)
    for (const [key, {sha256: digest}] of Object.entries(archives)) log(`${key}: ${digest}`)
    return
  }
  const at = argv.indexOf('--manifest-out')
  const manifestOut = at >= 0 ? path.resolve(argv[at + 1] ?? '') : undefined
  if (at >= 0 && !argv[at + 1]) throw new Error('--manifest-out needs a PATH')
  const unknown = argv.filter((arg, i) => arg !== '--if-missing' && (at < 0 || (i !== at && i !== at + 1)))
  if (unknown.length) throw new Error(`unknown arguments: ${unknown.join(' ')}`)
  if (manifestOut) mkdirSync(path.dirname(manifestOut), {recursive: true})
  await release({ifMissing: argv.includes('--if-missing'), manifestOut})
}

main(process.argv.slice(2)).catch((error) => {
  process.stderr.write(`release failed: ${error?.stack ?? error}\n`)
  process.exit(1)
})
