// The tables of docs/configuration.md, made from the one table of settings (settings.ts): the
// files this version reads, and every file util-vserver documents with its state here. The
// document keeps each between marker comments; `make docs` rewrites them, and a unit test fails
// when the document and the table disagree.

import { DEFAULTS_FILES, INTERFACE_FILES, SETTINGS, type ReadSetting, type Setting, type SettingState, type UnsupportedSetting } from "./settings";

export const BEGIN = "<!-- settings table: made by `make docs` from src/pure/config/settings.ts -->";
export const END = "<!-- end of settings table -->";
export const UTIL_BEGIN = "<!-- util-vserver settings: made by `make docs` from src/pure/config/settings.ts -->";
export const UTIL_END = "<!-- end of util-vserver settings -->";

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

function stateOf(s: Setting): SettingState {
  return s.state ?? (s.status === "read" && !s.silent ? "works" : "not applicable");
}

function compatOf(s: Setting): string {
  return s.compat ?? (s.status === "read" ? s.meaning : s.reason);
}

const keyList = (files: readonly string[], prefix = "") => files.map((f) => `\`${prefix}${f}\``).join(", ");

/** Every file util-vserver documents, with what this version does with it. */
export function utilSettingsMarkdown(): string {
  const rows = SETTINGS.filter((s) => !s.project);
  const project = SETTINGS.filter((s) => s.project).map((s) => name(s.key));
  const ifProject = INTERFACE_FILES.filter((r) => r.project).flatMap((r) => r.files);
  return [
    UTIL_BEGIN,
    "",
    "### A guest's directory",
    "",
    "| setting | state | here |",
    "|---|---|---|",
    ...rows.map((s) => `| ${s.status === "read" ? names(s) : name(s.key)} | ${stateOf(s)} | ${cell(compatOf(s))} |`),
    "",
    `This project's own files (not util-vserver's): ${project.join(", ")}; in \`interfaces/\`: ${keyList(ifProject)}.`,
    "",
    "### `interfaces/`",
    "",
    "Files of an entry (`interfaces/NN/FILE`); at the top of `interfaces/` they are defaults for every entry.",
    "",
    "| setting | state | here |",
    "|---|---|---|",
    ...INTERFACE_FILES.filter((r) => !r.project).map((r) => `| ${keyList(r.files)} | ${r.state} | ${cell(r.text)} |`),
    "",
    "### `/etc/vservers/.defaults/`",
    "",
    "A guest's settings fall back to the same file here, as the table of supported files says. The files of `.defaults` alone:",
    "",
    "| setting | state | here |",
    "|---|---|---|",
    ...DEFAULTS_FILES.map((r) => `| ${keyList(r.files)} | ${r.state} | ${cell(r.text)} |`),
    "",
    UTIL_END,
  ].join("\n");
}

function replaceBlock(doc: string, begin: string, end: string, body: string): string {
  const a = doc.indexOf(begin);
  const b = doc.indexOf(end);
  if (a < 0 || b < a) throw new Error(`the document has no block ${begin} … ${end}`);
  return doc.slice(0, a) + body + doc.slice(b + end.length);
}

/** `doc` with its settings blocks replaced by the current ones. */
export function withSettingsTable(doc: string): string {
  return replaceBlock(replaceBlock(doc, BEGIN, END, settingsMarkdown()), UTIL_BEGIN, UTIL_END, utilSettingsMarkdown());
}

if (import.meta.main) {
  const path = process.argv[2];
  if (!path) throw new Error("usage: settings-doc.ts docs/configuration.md");
  const fs = await import("node:fs");
  fs.writeFileSync(path, withSettingsTable(fs.readFileSync(path, "utf8")));
}
