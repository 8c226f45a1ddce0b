// Where unification keeps its files, all on one file system beside the guest roots (the pool):
//
//   <vdirbase>/.unify/store/ab/cdef…           objects, named by the SHA-256 of their content
//   <vdirbase>/.unify/guests/NAME/current      symlink to the generation in use: the guest is
//                                              unified exactly while this link exists
//   <vdirbase>/.unify/guests/NAME/gen-N/{meta,upper,work}
//
// A generation is made complete under a new name and switched to by replacing `current`, so a
// command killed at any step leaves either the old or the new generation in force, never a mix.

export interface UnifyPaths {
  pool: string;
  store: string;
  guests: string;
  guest: string;
  current: string;
  /** The guest's former plain tree, moved here by hashify before it is removed. */
  oldRoot: string;
  /** The plain tree `unify -R` copies out, renamed onto the guest's root when complete. */
  plainCopy: string;
  /**
   * Made once the plain copy is complete, before its rename: with it and without the copy, the
   * rename was done and the plain tree is the guest's.
   */
  plainCopyComplete: string;
  /** Where hashify and `unify -R` mount the guest's merged tree read-only (host side). */
  view: string;
}

export function unifyPaths(vdirBase: string, runDir: string, name: string): UnifyPaths {
  const pool = `${vdirBase}/.unify`;
  const guest = `${pool}/guests/${name}`;
  return {
    pool, store: `${pool}/store`, guests: `${pool}/guests`, guest,
    current: `${guest}/current`, oldRoot: `${guest}/old-root`, plainCopy: `${guest}/plain-copy`, plainCopyComplete: `${guest}/plain-copy.complete`,
    view: `${runDir}/.unify-views/${name}`,
  };
}

export interface Generation {
  dir: string;
  meta: string;
  upper: string;
  work: string;
}

export function generation(guestDir: string, n: number): Generation {
  const dir = `${guestDir}/gen-${n}`;
  return { dir, meta: `${dir}/meta`, upper: `${dir}/upper`, work: `${dir}/work` };
}

/** The number of a generation directory's name, or undefined for anything else. */
export function generationNumber(entry: string): number | undefined {
  const m = /^gen-(\d{1,9})$/.exec(entry);
  return m ? Number(m[1]) : undefined;
}
