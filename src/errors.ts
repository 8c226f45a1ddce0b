// Typed errors for every layer. A caller that must react differently (the CLI's exit code,
// `start` treating "already running" as a warning) checks the class, never the message text.

export interface ErrorContext {
  guest?: string;
  file?: string;
}

export class VsError extends Error {
  readonly guest?: string;
  readonly file?: string;
  /** Exit status the CLI uses when this error ends a command. */
  readonly exitCode: number = 1;

  constructor(message: string, ctx: ErrorContext = {}) {
    super(message);
    this.name = new.target.name;
    this.guest = ctx.guest;
    this.file = ctx.file;
  }
}

/** Bad command-line arguments. */
export class UsageError extends VsError {
  override readonly exitCode = 2;
}

/** A config file holds a value we cannot use; the message names the file. */
export class ConfigError extends VsError {}

/** No such guest, context or process. */
export class NotFoundError extends VsError {}

/** The guest exists but is not running, and the operation needs it running. */
export class NotRunningError extends VsError {
  override readonly exitCode = 1;
}

/** The guest is already running and the operation needs it stopped. */
export class AlreadyRunningError extends VsError {}

/** A write found its file system full (ENOSPC, or a quota: EDQUOT); the message names the file. */
export class NoSpaceError extends VsError {}

/** Another vserver command holds the guest's lock. */
export class BusyError extends VsError {}

/** A hook script failed. */
export class HookError extends VsError {}

/** The OCI runtime or another tool we drive failed. */
export class ToolError extends VsError {}

/** The guest's config forbids the operation (for example the `private` flag). */
export class ForbiddenError extends VsError {}
