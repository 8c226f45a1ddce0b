// vpstree's marks: in `pstree -p` output, every process that starts a context (its parent is in
// another context) is followed by [CONTEXT NAME].

export interface TreeProcess {
  context: number;
  ppid: number;
}

export function markContextTops(pstree: string, procs: Map<number, TreeProcess>, names: Map<number, string>): string {
  return pstree.replace(/\((\d+)\)/g, (m, pid: string) => {
    const p = procs.get(Number(pid));
    if (!p || p.context === 0) return m;
    if (procs.get(p.ppid)?.context === p.context) return m;
    return `${m}[${p.context} ${names.get(p.context) ?? ""}]`.replace(" ]", "]");
  });
}
