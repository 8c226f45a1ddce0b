// The lines hashify, gc and vdu print.

import type { BuildStats } from "../../drivers/unify/generation";

export function mib(bytes: number): string {
  return `${(bytes / 1048576).toFixed(1)} MiB`;
}

export function formatHashify(name: string, r: BuildStats & { storage: string; wasUnified: boolean; excludeSource: string }): string {
  const kept = r.keptFiles ? `, ${r.keptFiles} of them (${mib(r.keptBytes)}) kept with the guest by ${r.excludeSource}` : "";
  return `guest '${name}' ${r.wasUnified ? "hashified again" : "hashified"}: ${r.files} files (${mib(r.bytes)})${kept}, ${r.newObjects} new objects (${mib(r.newBytes)}) in the store; storage: ${r.storage}\n`;
}

export function formatProgress(name: string, s: BuildStats): string {
  return `\rhashify ${name}: ${s.files} files, ${mib(s.bytes)}, ${s.newObjects} new objects`;
}

export function formatGc(r: { referenced: number; removed: number; freedBytes: number }): string {
  return `store: ${r.referenced} objects in use, ${r.removed} removed (${mib(r.freedBytes)} freed)\n`;
}

/** A guest's disk use for vdu (control/unify-du.ts measures it). */
export interface DiskUseView {
  unified: boolean;
  /** What the guest itself holds: its upper (unified), or its whole tree. */
  ownBytes: number;
  ownInodes: number;
  metaInodes: number;
  /** Blocks of the metadata tree: its directories, and the files the exclude list kept with the guest. */
  metaBytes: number;
  sharedObjects: number;
  sharedBytes: number;
  alsoUsedByOthers: number;
}

export function formatDiskUse(name: string, d: DiskUseView): string {
  if (!d.unified) return `${name}: own ${mib(d.ownBytes)} in ${d.ownInodes} inodes (not unified: nothing shared)\n`;
  return `${name}: own ${mib(d.ownBytes)} in ${d.ownInodes} inodes (what it wrote itself), metadata ${mib(d.metaBytes)} in ${d.metaInodes} inodes (directories, kept files), ` +
    `shared ${mib(d.sharedBytes)} in ${d.sharedObjects} objects (${d.alsoUsedByOthers} of them used by other guests too)\n`;
}
