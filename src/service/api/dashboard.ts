// The web dashboard's files: the page and its script (service/api/dashboard/), and the frontend
// libraries (preact with htm: components without a build step, ~5 KB; xterm.js for the console)
// from the checkout's
// node_modules, as the installed commands use the checkout's dist/. The files carry no data:
// everything the page shows it asks the API for, with the API's own authentication.

import { existsSync, readFileSync } from "node:fs";
import { dirname } from "node:path";
import { createHash } from "node:crypto";

const FILES: Record<string, { rel: string; type: string }> = {
  "/ui/": { rel: "src/service/api/dashboard/index.html", type: "text/html; charset=utf-8" },
  "/ui/app.js": { rel: "src/service/api/dashboard/app.js", type: "text/javascript; charset=utf-8" },
  "/ui/vendor/preact.mjs": { rel: "node_modules/preact/dist/preact.mjs", type: "text/javascript; charset=utf-8" },
  "/ui/vendor/hooks.mjs": { rel: "node_modules/preact/hooks/dist/hooks.mjs", type: "text/javascript; charset=utf-8" },
  "/ui/vendor/htm.mjs": { rel: "node_modules/htm/dist/htm.mjs", type: "text/javascript; charset=utf-8" },
  "/ui/vendor/xterm.mjs": { rel: "node_modules/@xterm/xterm/lib/xterm.mjs", type: "text/javascript; charset=utf-8" },
  "/ui/vendor/xterm.css": { rel: "node_modules/@xterm/xterm/css/xterm.css", type: "text/css; charset=utf-8" },
};

/** The checkout: the first directory above the running script that has the dashboard's files. */
function checkoutRoot(): string | undefined {
  let d = dirname(process.argv[1] ?? ".");
  for (let i = 0; i < 6; i++) {
    if (existsSync(`${d}/src/service/api/dashboard/index.html`)) return d;
    d = dirname(d);
  }
  return undefined;
}

const root = checkoutRoot();

/** The page's one inline script, its import map, allowed by its hash and nothing else inline. */
function importMapHash(): string {
  if (!root) return "";
  const m = /<script type="importmap">([\s\S]*?)<\/script>/.exec(readFileSync(`${root}/${FILES["/ui/"]!.rel}`, "utf8"));
  return m ? `'sha256-${createHash("sha256").update(m[1]!).digest("base64")}'` : "";
}

const CSP = `default-src 'self'; script-src 'self' ${importMapHash()}; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'`;

export function isDashboardPath(path: string): boolean {
  return path === "/" || path === "/ui" || path.startsWith("/ui/");
}

export function dashboardFile(path: string): Response {
  if (path === "/" || path === "/ui") return new Response(null, { status: 302, headers: { location: "/ui/" } });
  const f = FILES[path];
  if (!f || !root) return new Response(JSON.stringify({ error: `there is no ${path} in the dashboard.` }) + "\n", { status: 404, headers: { "content-type": "application/json" } });
  return new Response(readFileSync(`${root}/${f.rel}`), {
    headers: {
      "content-type": f.type,
      // Only our own scripts, no framing by another site (clickjacking), no inline script.
      "content-security-policy": CSP,
      "x-frame-options": "DENY",
      "x-content-type-options": "nosniff",
      "cache-control": "no-cache",
    },
  });
}

/**
 * A request another site's page made the browser send: its Origin names another host, or the
 * browser says it is cross-site. Refused for everything but reading the dashboard's files, so a
 * client certificate (which the browser sends by itself) cannot be used by another site (CSRF).
 */
export function crossSite(req: Request): boolean {
  const site = req.headers.get("sec-fetch-site");
  if (site && site !== "same-origin" && site !== "none") return true;
  const origin = req.headers.get("origin");
  if (!origin) return false;
  try {
    return new URL(origin).host !== req.headers.get("host");
  } catch {
    return true;
  }
}
