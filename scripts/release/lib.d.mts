// Types of lib.mjs, for the release tests written in TypeScript.
export declare const EXECUTABLE: 'kubectl-airflow_reap'
export declare const SEA_FUSE: string
export declare const NODE_PACKAGES: Record<'linux-amd64' | 'linux-arm64' | 'darwin-amd64' | 'darwin-arm64', {name: string; version: string}>
export declare function hostPlatform(platform?: string, arch?: string): {os: string; arch: string; key: string}
export declare function archiveName(platform: {os: string; arch: string}): string
export declare function sha256(data: Buffer | string): string
export declare function walk(root: string, relative?: string): Array<[string, string, import('node:fs').Stats]>
export declare function packPayload(root: string): {packed: Buffer; sha256: string; files: number; rawBytes: number}
export declare function tar(entries: Array<{name: string; data: Buffer; mode: number}>, mtime?: number): Buffer
export declare function gzip(data: Buffer): Buffer
export declare function updateManifest(
  text: string,
  options: {version: string; archives?: Record<string, {sha256: string}>; baseUrl?: string},
): string
