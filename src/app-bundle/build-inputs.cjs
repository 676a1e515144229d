// @ts-check
"use strict";
/**
 * What the two build caches (the app bundles of run.cjs and the Lambda packages of
 * src/constructs/automation/bundling.ts) know about the files a build read, and how they write
 * their entries. A cached build stays valid while every input is unchanged: same size and
 * modification time, or else same size and content (a checkout or `touch` changes the time, not
 * the content). Plain JavaScript, because run.cjs loads it before anything can transpile
 * TypeScript.
 *
 * Installed files (under node_modules) are recorded by size and time only. Both caches key
 * their entries on the lock file, whose content fixes what `npm ci` installs, so hashing them
 * bought nothing and cost a first synth 0.1 s on its critical path (the Lambda packages read
 * 1,756 of them). One whose time changed (patched by hand, reinstalled) counts as changed.
 */
const { createHash } = require("node:crypto");
const { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } = require("node:fs");
const { dirname, join } = require("node:path");
const { threadId } = require("node:worker_threads");

/**
 * @typedef {{ sha256?: string, size: number, mtimeMs: number }} Fingerprint `sha256` is left out
 * for installed files ({@link isInstalled})
 */

/**
 * @param {string | Uint8Array} data
 * @param {"hex" | "base64"} [encoding]
 * @returns {string}
 */
function sha256(data, encoding = "hex") {
  return createHash("sha256").update(data).digest(encoding);
}

/**
 * Fingerprints of files under one root, each file read and hashed at most once per instance:
 * the Lambda handlers share most of their inputs (12 manifests list about 19,500 files, of
 * which 1,800 differ).
 */
class BuildInputs {
  /** @param {string} root the directory input paths are relative to */
  constructor(root) {
    this.root = root;
    /** @type {Map<string, string>} */
    this.hashes = new Map();
    /** @type {Set<string>} inputs found unchanged, as `path NUL sha256` (`path NUL mtimeMs` for installed files) */
    this.unchangedInputs = new Set();
  }

  /**
   * SHA-256 (hex) of a file, or "missing" when it cannot be read.
   *
   * @param {string} path relative to the root
   */
  hash(path) {
    let hash = this.hashes.get(path);
    if (hash === undefined) {
      try {
        hash = sha256(readFileSync(join(this.root, path)));
      } catch {
        hash = "missing";
      }
      this.hashes.set(path, hash);
    }
    return hash;
  }

  /**
   * @param {string} path relative to the root
   * @returns {Fingerprint}
   */
  fingerprint(path) {
    const stat = statSync(join(this.root, path), { throwIfNoEntry: false });
    const size = stat?.size ?? -1;
    const mtimeMs = stat?.mtimeMs ?? -1;
    return isInstalled(path) ? { size, mtimeMs } : { sha256: this.hash(path), size, mtimeMs };
  }

  /**
   * @param {string} path relative to the root
   * @param {Fingerprint} recorded
   */
  unchanged(path, recorded) {
    const seen = `${path}\0${recorded.sha256 ?? recorded.mtimeMs}`;
    if (this.unchangedInputs.has(seen)) return true;
    const stat = statSync(join(this.root, path), { throwIfNoEntry: false });
    if (stat === undefined || stat.size !== recorded.size) return false;
    const same =
      stat.mtimeMs === recorded.mtimeMs ||
      (recorded.sha256 !== undefined && this.hash(path) === recorded.sha256);
    if (same) this.unchangedInputs.add(seen);
    return same;
  }
}

/**
 * Whether a path (relative to the project root, posix or native separators) is an installed
 * file, whose content the lock file fixes.
 *
 * @param {string} path
 */
function isInstalled(path) {
  return /^node_modules[\\/]/.test(path);
}

/** How {@link writeAtomically}'s temporary files end: one left behind is an interrupted write. */
const PARTIAL_SUFFIX = ".partial";

/**
 * Writes through a temporary file and a rename, so a concurrent build (another synth, a test
 * worker) never reads half a file. The temporary name holds the thread too: a synth's packaging
 * worker (background-packaging.cjs) shares its process id.
 *
 * @param {string} path
 * @param {string | Uint8Array} data
 */
function writeAtomically(path, data) {
  mkdirSync(dirname(path), { recursive: true });
  const partial = `${path}.${process.pid}-${threadId}${PARTIAL_SUFFIX}`;
  writeFileSync(partial, data);
  renameSync(partial, path);
}

module.exports = { BuildInputs, isInstalled, PARTIAL_SUFFIX, sha256, writeAtomically };
