// vmount's mount arguments (util-vserver's `vmount GUEST -- [-o OPTS] [--bind|--rbind] [-t TYPE]
// [-n] SRC DST`), turned into what vserver-mount-into does. Pure, so that every refusal is tested
// without a guest.

export class VmountArgError extends Error {}

export interface VmountPlan {
  kind: "bind" | "fs";
  /** bind: recursive (--rbind). */
  recursive: boolean;
  /** fs: the file system type. */
  type?: string;
  /** A host path (bind), or the file system's source ("none" for tmpfs, proc ...). */
  source: string;
  /** An absolute path inside the guest. */
  target: string;
  readOnly: boolean;
  /** nosuid and nodev unless `-o suid` / `-o dev` lift them; noexec with `-o noexec`. */
  nosuid: boolean;
  nodev: boolean;
  noexec: boolean;
  /** fs: the options that go to the file system itself (size=16m, mode=1777, ...). */
  fsOptions: string[];
}

const MOUNT_ATTR_RDONLY = 0x1, MOUNT_ATTR_NOSUID = 0x2, MOUNT_ATTR_NODEV = 0x4, MOUNT_ATTR_NOEXEC = 0x8;

export function mountAttrBits(p: VmountPlan): number {
  return (p.readOnly ? MOUNT_ATTR_RDONLY : 0) | (p.nosuid ? MOUNT_ATTR_NOSUID : 0) | (p.nodev ? MOUNT_ATTR_NODEV : 0) | (p.noexec ? MOUNT_ATTR_NOEXEC : 0);
}

const REFUSED: Record<string, string> = {
  "-a": "-a (mount all of an fstab): put the entries in the guest's fstab and restart it, or name one mount.",
  "--move": "--move: a mount cannot be moved from the host into a guest; bind it instead.",
  "--make-shared": "propagation changes are not supported: a guest's mounts do not propagate to the host.",
  "--make-rshared": "propagation changes are not supported: a guest's mounts do not propagate to the host.",
};

export function parseVmountArgs(args: string[]): VmountPlan {
  let bind = false, recursive = false, type: string | undefined;
  const opts: string[] = [];
  const words: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const value = (): string => {
      const v = args[++i];
      if (v === undefined) throw new VmountArgError(`${a} needs a value.`);
      return v;
    };
    if (a === "--bind" || a === "-B") bind = true;
    else if (a === "--rbind" || a === "-R") bind = recursive = true;
    else if (a === "-t" || a === "--types") type = value();
    else if (a === "-o" || a === "--options") opts.push(...value().split(",").filter(Boolean));
    else if (a === "-n" || a === "--no-mtab") continue; // there is no mtab to write
    else if (REFUSED[a]) throw new VmountArgError(REFUSED[a]!);
    else if (a.startsWith("-") && a !== "-") throw new VmountArgError(`unknown mount option '${a}'.`);
    else words.push(a);
  }
  if (opts.includes("bind")) bind = true;
  if (opts.includes("rbind")) bind = recursive = true;
  if (bind && type && type !== "none") throw new VmountArgError(`a bind mount has no type (-t ${type}).`);
  if (!bind && !type) throw new VmountArgError("say --bind (or --rbind) SRC DST, or -t TYPE SOURCE DST.");
  if (words.length !== 2) throw new VmountArgError(`give a source and a target (got ${words.length} word${words.length === 1 ? "" : "s"}).`);
  const [source, target] = words as [string, string];
  if (!target.startsWith("/")) throw new VmountArgError(`the target '${target}' must be an absolute path inside the guest.`);
  if (bind && !source.startsWith("/")) throw new VmountArgError(`the source '${source}' must be an absolute path on the host.`);
  const plan: VmountPlan = { kind: bind ? "bind" : "fs", recursive, ...(bind ? {} : { type }), source, target, readOnly: false, nosuid: true, nodev: true, noexec: false, fsOptions: [] };
  for (const o of opts) {
    if (o === "ro") plan.readOnly = true;
    else if (o === "rw" || o === "bind" || o === "rbind" || o === "defaults") continue;
    else if (o === "suid") plan.nosuid = false;
    else if (o === "dev") plan.nodev = false;
    else if (o === "nosuid") plan.nosuid = true;
    else if (o === "nodev") plan.nodev = true;
    else if (o === "noexec") plan.noexec = true;
    else if (o === "exec") plan.noexec = false;
    else if (bind) throw new VmountArgError(`the option '${o}' does not apply to a bind mount (ro, nosuid, nodev, noexec do).`);
    else plan.fsOptions.push(o);
  }
  return plan;
}
