// What a package name may be, for `vserver NAME pkg` and the API: Debian's and RPM's names with
// a version or release after '=' or ':', and nothing a tool could read as an option.

export const PACKAGE_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9+._:=~-]*$/;
