// krew-manifest.yaml against krew's rules, and against the release archive when one was built here
// (`npm run release`). Needs no release build: without an archive the archive checks are skipped.
import {spawnSync} from 'node:child_process'
import {readFileSync} from 'node:fs'
import path from 'node:path'
import {describe, expect, it} from 'vitest'
import {repoRoot} from '../support/paths.js'
import {EXECUTABLE, archivePath, hostArchive, hostPlatform, loadManifest, packageVersion, readTar, selectorMatches} from '../support/release/index.js'
import {krewInstallLayout, krewManifestErrors} from '../support/release/krew.js'

const manifest = loadManifest()
const platforms = manifest.spec?.platforms ?? []
const RELEASED: Array<[string, string]> = [
  ['linux', 'amd64'],
  ['linux', 'arm64'],
  ['darwin', 'amd64'],
  ['darwin', 'arm64'],
]

function platformFor(os: string, arch: string) {
  return platforms.find((p) => selectorMatches(p.selector, {os, arch}))
}

describe('krew-manifest.yaml', () => {
  it('passes every structural check krew and krew-index make', () => {
    expect(krewManifestErrors(manifest, 'airflow-reap')).toEqual([])
  })

  it('is the plugin of the CLI contract, at the version of package.json', () => {
    expect(manifest.metadata?.name).toBe('airflow-reap')
    expect(manifest.spec?.version).toBe(`v${packageVersion()}`)
    expect(manifest.spec?.homepage).toMatch(/^https:\/\//)
    expect(manifest.spec?.description?.trim()).not.toBe('')
  })

  it('tells in its caveats which RBAC the commands need', () => {
    const caveats = manifest.spec?.caveats ?? ''
    for (const word of ['zombies', 'unstick', 'pods', 'jobs', 'list', 'delete', 'patch']) expect(caveats).toContain(word)
  })

  it.each(RELEASED)('has one entry for %s/%s, pointing at that release archive and installing the executable', (os, arch) => {
    const platform = platformFor(os, arch)
    expect(platform, `${os}/${arch}`).toBeDefined()
    expect(platform!.selector).toEqual({matchLabels: {os, arch}})
    expect(platform!.uri).toMatch(/^https:\/\//)
    expect(platform!.uri!.endsWith(`/v${packageVersion()}/${path.basename(archivePath({os, arch}))}`)).toBe(true)
    expect(platform!.bin).toBe(EXECUTABLE)
    expect(krewInstallLayout([EXECUTABLE, 'LICENSE'], platform!.files).get(platform!.bin!)).toBe(EXECUTABLE)
  })

  // `npm run test:release` builds an archive and writes its manifest to dist/release; only `npm run
  // release` writes the tracked file, so a test run leaves the clone clean (git status empty).
  const tracked = spawnSync('git', ['ls-files', '--error-unmatch', 'krew-manifest.yaml'], {cwd: repoRoot}).status === 0
  it.runIf(tracked)('is left as committed by the release build of the tests', () => {
    const diff = spawnSync('git', ['diff', '--quiet', 'HEAD', '--', 'krew-manifest.yaml'], {cwd: repoRoot})
    expect(diff.status, 'krew-manifest.yaml differs from HEAD').toBe(0)
  })

  it('has no entry for a platform without a release', () => {
    expect(platforms).toHaveLength(RELEASED.length)
  })

  describe.runIf(hostArchive() !== null)('with the archive `npm run release` built on this machine', () => {
    it('installs bin from the archive as krew does (files moved, bin present and executable, no stray paths)', () => {
      const host = hostPlatform()!
      const entries = readTar(readFileSync(hostArchive()!))
      for (const entry of entries) {
        expect(entry.name).not.toMatch(/^\/|(^|\/)\.\.(\/|$)/)
        expect(entry.type).toBe('0')
      }
      expect(entries.map((e) => e.name).sort()).toEqual(['LICENSE', EXECUTABLE])
      const platform = platformFor(host.os, host.arch)!
      const layout = krewInstallLayout(
        entries.map((e) => e.name),
        platform.files,
      )
      const bin = entries.find((e) => e.name === layout.get(platform.bin!))
      expect(bin, `bin ${platform.bin} after the file operations`).toBeDefined()
      expect(bin!.mode & 0o111).toBe(0o111)
      expect(bin!.size).toBeGreaterThan(10_000_000) // the Node runtime with the app inside
      expect(layout.has('LICENSE')).toBe(true)
    })
  })
})
