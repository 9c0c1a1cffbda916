// The pieces of scripts/release.mjs that need no build: platform names, the archive's tar format,
// the payload the executable unpacks, and the manifest rewriting.
import {spawnSync} from 'node:child_process'
import {mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {brotliDecompressSync} from 'node:zlib'
import yaml from 'js-yaml'
import {afterAll, describe, expect, it} from 'vitest'
import {archiveName, gzip, hostPlatform, packPayload, sha256, tar, updateManifest} from '../../scripts/release/lib.mjs'
import {MANIFEST_PATH, type KrewManifest, readTar} from '../support/release/index.js'
import {krewManifestErrors} from '../support/release/krew.js'

const tmp = mkdtempSync(path.join(tmpdir(), 'reap-release-lib-'))
afterAll(() => rmSync(tmp, {recursive: true, force: true}))

describe('platform names', () => {
  it.each([
    ['linux', 'x64', 'kubectl-airflow_reap_linux_amd64.tar.gz'],
    ['linux', 'arm64', 'kubectl-airflow_reap_linux_arm64.tar.gz'],
    ['darwin', 'x64', 'kubectl-airflow_reap_darwin_amd64.tar.gz'],
    ['darwin', 'arm64', 'kubectl-airflow_reap_darwin_arm64.tar.gz'],
  ])('%s/%s → %s (krew and Go spell arches amd64/arm64)', (platform, arch, name) => {
    expect(archiveName(hostPlatform(platform, arch))).toBe(name)
  })

  it('refuses a platform without a release', () => {
    expect(() => hostPlatform('win32', 'x64')).toThrow(/unsupported platform/)
  })
})

describe('the release archive format', () => {
  const entries = [
    {name: 'kubectl-airflow_reap', data: Buffer.from('#!/bin/sh\necho hi\n'), mode: 0o755},
    {name: 'LICENSE', data: Buffer.alloc(1500, 'L'), mode: 0o644},
  ]

  it('is byte-for-byte reproducible', () => {
    expect(sha256(gzip(tar(entries, 1_700_000_000)))).toBe(sha256(gzip(tar(entries, 1_700_000_000))))
  })

  it('is read back by our reader and by the system tar, with modes', () => {
    const archive = path.join(tmp, 'a.tar.gz')
    writeFileSync(archive, gzip(tar(entries, 1_700_000_000)))
    expect(readTar(readFileSync(archive)).map((e) => [e.name, e.type, e.mode, e.size])).toEqual([
      ['kubectl-airflow_reap', '0', 0o755, 18],
      ['LICENSE', '0', 0o644, 1500],
    ])
    const listing = spawnSync('tar', ['-tvzf', archive], {encoding: 'utf8'})
    expect(listing.status, listing.stderr).toBe(0)
    expect(listing.stdout).toMatch(/^-rwxr-xr-x root\/root\s+18 \d{4}-\d\d-\d\d \d\d:\d\d kubectl-airflow_reap$/m)
    expect(listing.stdout).toMatch(/^-rw-r--r-- root\/root\s+1500 .* LICENSE$/m)
  })
})

describe('the payload the executable unpacks', () => {
  it('holds every file with its mode, and symbolic links, in a stable order', () => {
    const app = path.join(tmp, 'app')
    mkdirSync(path.join(app, 'bin'), {recursive: true})
    mkdirSync(path.join(app, 'node_modules', 'x'), {recursive: true})
    writeFileSync(path.join(app, 'bin', 'run.js'), 'run', {mode: 0o755})
    writeFileSync(path.join(app, 'node_modules', 'x', 'index.js'), 'module.exports = 1')
    symlinkSync('x', path.join(app, 'node_modules', 'y'))
    const payload = packPayload(app)
    const raw = brotliDecompressSync(payload.packed)
    const indexLength = raw.readUInt32BE(0)
    expect(JSON.parse(raw.toString('utf8', 4, 4 + indexLength))).toEqual([
      ['bin/run.js', 0o755, 3],
      ['node_modules/x/index.js', 0o644, 18],
      ['node_modules/y', 'l', 'x'],
    ])
    expect(raw.subarray(4 + indexLength).toString()).toBe('runmodule.exports = 1')
    expect(payload.sha256).toBe(sha256(raw))
    expect(packPayload(app).sha256).toBe(payload.sha256)
  })
})

describe('updateManifest', () => {
  const text = readFileSync(MANIFEST_PATH, 'utf8')
  const digest = 'ab'.repeat(32)

  it('writes the version, and the sha256 of one platform, quoted, keeping the rest of the file', () => {
    const out = updateManifest(text, {version: '1.2.3', archives: {'linux-arm64': {sha256: digest}}})
    const manifest = yaml.load(out) as KrewManifest
    expect(manifest.spec?.version).toBe('v1.2.3')
    const arm = manifest.spec!.platforms!.find((p) => p.selector?.matchLabels?.arch === 'arm64' && p.selector.matchLabels.os === 'linux')!
    expect(arm.sha256).toBe(digest)
    expect(arm.uri).toContain('/releases/download/v1.2.3/kubectl-airflow_reap_linux_arm64.tar.gz')
    expect(out).toContain(`sha256: "${digest}"`)
    expect(out.split('\n').filter((line) => line.startsWith('#'))).toEqual(text.split('\n').filter((line) => line.startsWith('#')))
    expect(krewManifestErrors({...manifest, spec: {...manifest.spec}}, 'airflow-reap')).toEqual([])
  })

  it('rewrites every uri to a new base (the release workflow passes its own repository)', () => {
    const out = updateManifest(text, {version: '0.1.0', baseUrl: 'https://github.com/acme/reap/releases/download/v0.1.0/'})
    const uris = (yaml.load(out) as KrewManifest).spec!.platforms!.map((p) => p.uri)
    expect(uris).toHaveLength(4)
    for (const uri of uris) expect(uri).toMatch(/^https:\/\/github\.com\/acme\/reap\/releases\/download\/v0\.1\.0\/kubectl-airflow_reap_[a-z]+_[a-z0-9]+\.tar\.gz$/)
  })

  it('refuses an archive for a platform the manifest does not list', () => {
    expect(() => updateManifest(text, {version: '0.1.0', archives: {'windows-amd64': {sha256: digest}}})).toThrow(/no platform entry for windows-amd64/)
  })
})
