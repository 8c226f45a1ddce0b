// The tables of docs/configuration.md, made from the one table of settings (settings.ts). The
// document keeps them between marker comments; `make docs` rewrites them, and a unit test fails
// when the document and the table disagree.

import { SETTINGS, type ReadSetting, type UnsupportedSetting } from "./settings";

export const BEGIN = "<!-- settings table: made by `make docs` from src/pure/config/settings.ts -->";
export const END = "<!-- end of settings table -->";

const cell = (s: string) => s.replace(/\|/g, "\\|");
const name = (key: string) => (key.endsWith("/") ? `\`${key}\`…` : `\`${key}\``);
const names = (s: ReadSetting) => (s.hardSoft ? `${name(s.key)} (or \`.hard\`, \`.soft\`)` : name(s.key));

export function settingsMarkdown(): string {
  const readRows = SETTINGS.filter((s): s is ReadSetting => s.status === "read" && !s.silent);
  const unsupported = SETTINGS.filter((s): s is UnsupportedSetting => s.status === "unsupported");
  const own = readRows.filter((s) => !s.fromDefaults).map((s) => name(s.key));
  return [
    BEGIN,
    "",
    `Never taken from \`.defaults\`, since they describe one guest: ${own.join(", ")}.`,
    "",
    "| file | meaning | default |",
    "|---|---|---|",
    ...readRows.map((s) => `| ${names(s)} | ${cell(s.meaning)}${s.seeAlso ? ` (${s.seeAlso})` : ""} | ${cell(s.default)} |`),
    "",
    "Known to util-vserver but not applied here; each is reported once per command when present:",
    "",
    "| file | why |",
    "|---|---|",
    ...unsupported.map((s) => `| ${name(s.key)} | ${cell(s.reason)} |`),
    "",
    END,
  ].join("\n");
}

/** `doc` with its settings block replaced by the current one. */
export function withSettingsTable(doc: string): string {
  const a = doc.indexOf(BEGIN);
  const b = doc.indexOf(END);
  if (a < 0 || b < a) throw new Error(`the document has no settings block (${BEGIN} … ${END})`);
  return doc.slice(0, a) + settingsMarkdown() + doc.slice(b + END.length);
}

if (import.meta.main) {
  const path = process.argv[2];
  if (!path) throw new Error("usage: settings-doc.ts docs/configuration.md");
  const fs = await import("node:fs");
  fs.writeFileSync(path, withSettingsTable(fs.readFileSync(path, "utf8")));
}
