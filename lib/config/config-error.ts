/** A configuration value that cannot be used; the message names the flag (and its env var). */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
  constructor(
    readonly flag: string,
    message: string,
  ) {
    super(message);
  }
}
