// The host's Debian mirror, from its apt sources (one-line and deb822 formats), as the default
// mirror of `build -m debootstrap`.

export function mirrorFromAptSources(texts: string[]): string | undefined {
  for (const text of texts) {
    // deb822: stanzas with Types:, URIs:, Suites:
    for (const stanza of text.split(/\n\s*\n/)) {
      const types = /^Types:\s*(.+)$/im.exec(stanza)?.[1] ?? "";
      const uris = /^URIs:\s*(.+)$/im.exec(stanza)?.[1] ?? "";
      const suites = /^Suites:\s*(.+)$/im.exec(stanza)?.[1] ?? "";
      if (/\bdeb\b/.test(types) && uris && !/security/.test(suites + uris)) return uris.trim().split(/\s+/)[0];
    }
    for (const line of text.split("\n")) {
      const m = /^\s*deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)/.exec(line);
      if (m && !/security/.test(m[1]! + m[2]!)) return m[1];
    }
  }
  return undefined;
}
